//! A test double for the business side: answers each function from a table.
//!
//! Functions without an entry answer `Failed` with the function-provider subject and an "unsupported" reason.
//! Every call, notification and callback is recorded, so tests can assert what reached the business side.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use rsp_sgp02::{FunctionId, ResponseBody};
use rsp_types::codes::sgp02::{reason, subject};
use rsp_types::{FunctionExecutionStatus, Identity};

use crate::service::{Call, Handler};

/// What the table answers for one function.
#[derive(Debug, Clone)]
pub enum Answer {
    /// This response body.
    Respond(ResponseBody),
    /// This failure status.
    Fail(FunctionExecutionStatus),
    /// This response body after a delay (to exercise validity periods).
    RespondAfter(ResponseBody, Duration),
}

/// Something the table received.
#[derive(Debug, Clone)]
pub enum Received {
    /// A request.
    Call(Call),
    /// A notification.
    Notification(Call),
    /// An asynchronous response (relates_to, body).
    Callback(Identity, String, ResponseBody),
}

/// The table handler.
#[derive(Default)]
pub struct TableHandler {
    answers: Mutex<HashMap<FunctionId, Answer>>,
    received: Mutex<Vec<Received>>,
    callbacks: crate::client::PendingReplies,
}

impl TableHandler {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the answer for `function`.
    pub fn answer(&self, function: FunctionId, answer: Answer) {
        if let Ok(mut a) = self.answers.lock() {
            a.insert(function, answer);
        }
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().map(|r| r.clone()).unwrap_or_default()
    }

    /// How many requests of `function` reached the business side.
    pub fn calls_of(&self, function: FunctionId) -> usize {
        self.received()
            .iter()
            .filter(|r| matches!(r, Received::Call(c) if c.function == function))
            .count()
    }

    /// The registry that asynchronous responses are delivered to.
    pub fn pending(&self) -> &crate::client::PendingReplies {
        &self.callbacks
    }

    fn record(&self, r: Received) {
        if let Ok(mut v) = self.received.lock() {
            v.push(r);
        }
    }
}

#[async_trait]
impl Handler for TableHandler {
    async fn call(&self, call: Call) -> Result<ResponseBody, FunctionExecutionStatus> {
        let function = call.function;
        self.record(Received::Call(call));
        let answer = self
            .answers
            .lock()
            .ok()
            .and_then(|a| a.get(&function).cloned());
        match answer {
            Some(Answer::Respond(b)) => Ok(b),
            Some(Answer::Fail(s)) => Err(s),
            Some(Answer::RespondAfter(b, d)) => {
                tokio::time::sleep(d).await;
                Ok(b)
            }
            None => Err(FunctionExecutionStatus::failed(
                subject::FUNCTION_PROVIDER,
                reason::UNSUPPORTED,
            )
            .with_message(format!(
                "the test table has no answer for {}",
                function.info().qualified_name()
            ))),
        }
    }

    async fn notification(&self, call: Call) -> Result<(), FunctionExecutionStatus> {
        self.record(Received::Notification(call));
        Ok(())
    }

    async fn callback(&self, caller: Identity, relates_to: String, body: ResponseBody) {
        self.callbacks.deliver(&relates_to, body.clone());
        self.record(Received::Callback(caller, relates_to, body));
    }
}
