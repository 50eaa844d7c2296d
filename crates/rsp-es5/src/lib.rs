//! ES5 transports between the SM-SR and the M2M eUICC, both ends.

pub mod https;
pub mod queue;
pub mod sms;
