//! Simulated eUICCs. The card is a pure state machine driven by APDUs (and an injected clock and RNG); its
//! transports live in `rsp-es5`, its state persists as a snapshot file.

pub mod consumer;
pub mod m2m;
