//! ES9+ as the LPA calls it: the [`Es9Client`] trait (typed requests and responses, each
//! request encoded for the receiver's [`Profile`]) and [`Es9Error`], which keeps the server's
//! status code data (JSON binding) or error integer (ASN.1 binding).
//!
//! [`crate::http::HttpEs9Client`] implements the trait over HTTPS; tests may implement it with
//! a fake server.

use std::fmt;

use async_trait::async_trait;
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, CancelSessionRequestEs9,
    GetBoundProfilePackageOk, GetBoundProfilePackageRequest, InitiateAuthenticationOk,
    InitiateAuthenticationRequest, PendingNotification, Profile,
};
use rsp_types::Svn;
use rsp_types::status::StatusCodeData;

/// An ES9+ function.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Es9Function {
    /// `ES9+.InitiateAuthentication`.
    InitiateAuthentication,
    /// `ES9+.AuthenticateClient`.
    AuthenticateClient,
    /// `ES9+.GetBoundProfilePackage`.
    GetBoundProfilePackage,
    /// `ES9+.HandleNotification`.
    HandleNotification,
    /// `ES9+.CancelSession`.
    CancelSession,
}

impl Es9Function {
    /// The last path segment of the JSON binding (`/gsma/rsp2/es9plus/<this>`).
    pub const fn json_path(self) -> &'static str {
        match self {
            Es9Function::InitiateAuthentication => "initiateAuthentication",
            Es9Function::AuthenticateClient => "authenticateClient",
            Es9Function::GetBoundProfilePackage => "getBoundProfilePackage",
            Es9Function::HandleNotification => "handleNotification",
            Es9Function::CancelSession => "cancelSession",
        }
    }

    /// The function's name as in the spec.
    pub const fn name(self) -> &'static str {
        match self {
            Es9Function::InitiateAuthentication => "InitiateAuthentication",
            Es9Function::AuthenticateClient => "AuthenticateClient",
            Es9Function::GetBoundProfilePackage => "GetBoundProfilePackage",
            Es9Function::HandleNotification => "HandleNotification",
            Es9Function::CancelSession => "CancelSession",
        }
    }
}

impl fmt::Display for Es9Function {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why an ES9+ call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Es9Error {
    /// JSON binding: HTTP 200 with `functionExecutionStatus` `Failed` (or `Expired`).
    #[error("ES9+.{function}: the server answered {}/{}{}", status.subject_code, status.reason_code,
        status.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Failed {
        /// The function.
        function: Es9Function,
        /// The server's status code data.
        status: Box<StatusCodeData>,
    },
    /// ASN.1 binding: the response's error alternative (an `…Error` INTEGER).
    #[error("ES9+.{function}: the server answered error {code}")]
    Code {
        /// The function.
        function: Es9Function,
        /// The error integer.
        code: i64,
    },
    /// An HTTP status other than the binding's (200 / 204).
    #[error("ES9+.{function}: HTTP {status}")]
    Http {
        /// The function.
        function: Es9Function,
        /// HTTP status.
        status: u16,
        /// The start of the body, for diagnosis.
        body: String,
    },
    /// Connection, TLS or timeout failure.
    #[error("ES9+.{function}: transport: {message}")]
    Transport {
        /// The function.
        function: Es9Function,
        /// What failed.
        message: String,
    },
    /// A response that breaks the binding: bad JSON, missing field, undecodable DER, wrong
    /// header, unexpected alternative.
    #[error("ES9+.{function}: protocol: {message}")]
    Protocol {
        /// The function.
        function: Es9Function,
        /// What is wrong.
        message: String,
    },
    /// The request could not be encoded for the server.
    #[error("ES9+.{function}: cannot encode the request: {message}")]
    Encode {
        /// The function.
        function: Es9Function,
        /// The encoder's message.
        message: String,
    },
}

impl Es9Error {
    /// The function that failed.
    pub fn function(&self) -> Es9Function {
        match self {
            Es9Error::Failed { function, .. }
            | Es9Error::Code { function, .. }
            | Es9Error::Http { function, .. }
            | Es9Error::Transport { function, .. }
            | Es9Error::Protocol { function, .. }
            | Es9Error::Encode { function, .. } => *function,
        }
    }

    /// The server's status code data (JSON binding).
    pub fn status(&self) -> Option<&StatusCodeData> {
        match self {
            Es9Error::Failed { status, .. } => Some(status.as_ref()),
            _ => None,
        }
    }

    /// The server's error integer (ASN.1 binding).
    pub fn code(&self) -> Option<i64> {
        match self {
            Es9Error::Code { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// ES9+ towards any SM-DP+ (and notification receiver). `address` is the FQDN the request goes
/// to (the SM-DP+ address of the Activation Code, or a notification's address); `peer` is the
/// receiver's negotiated profile: the one gated encoder writes every request for it.
#[async_trait]
pub trait Es9Client: Send {
    /// `ES9+.InitiateAuthentication`.
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error>;

    /// `ES9+.AuthenticateClient` (the profile-download alternative of the response).
    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<AuthenticateClientOk, Es9Error>;

    /// `ES9+.GetBoundProfilePackage`.
    async fn get_bound_profile_package(
        &mut self,
        address: &str,
        request: &GetBoundProfilePackageRequest,
        peer: &Profile,
    ) -> Result<GetBoundProfilePackageOk, Es9Error>;

    /// `ES9+.HandleNotification` (HTTP 204, no output).
    async fn handle_notification(
        &mut self,
        address: &str,
        notification: &PendingNotification,
        peer: &Profile,
    ) -> Result<(), Es9Error>;

    /// `ES9+.CancelSession`.
    async fn cancel_session(
        &mut self,
        address: &str,
        request: &CancelSessionRequestEs9,
        peer: &Profile,
    ) -> Result<(), Es9Error>;

    /// The version the server declared in its last `X-Admin-Protocol` header, if any.
    fn last_admin_protocol(&self) -> Option<Svn> {
        None
    }
}

#[async_trait]
impl<S: Es9Client + ?Sized> Es9Client for Box<S> {
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error> {
        (**self)
            .initiate_authentication(address, request, peer)
            .await
    }
    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<AuthenticateClientOk, Es9Error> {
        (**self).authenticate_client(address, request, peer).await
    }
    async fn get_bound_profile_package(
        &mut self,
        address: &str,
        request: &GetBoundProfilePackageRequest,
        peer: &Profile,
    ) -> Result<GetBoundProfilePackageOk, Es9Error> {
        (**self)
            .get_bound_profile_package(address, request, peer)
            .await
    }
    async fn handle_notification(
        &mut self,
        address: &str,
        notification: &PendingNotification,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        (**self)
            .handle_notification(address, notification, peer)
            .await
    }
    async fn cancel_session(
        &mut self,
        address: &str,
        request: &CancelSessionRequestEs9,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        (**self).cancel_session(address, request, peer).await
    }
    fn last_admin_protocol(&self) -> Option<Svn> {
        (**self).last_admin_protocol()
    }
}

/// An ES9+ client that reaches no server: every call fails with [`Es9Error::Transport`]. For
/// local operations (profiles, EID, listing notifications) that need an [`crate::Lpa`] but no
/// network.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offline;

fn offline(function: Es9Function) -> Es9Error {
    Es9Error::Transport {
        function,
        message: "no ES9+ server configured".into(),
    }
}

#[async_trait]
impl Es9Client for Offline {
    async fn initiate_authentication(
        &mut self,
        _: &str,
        _: &InitiateAuthenticationRequest,
        _: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error> {
        Err(offline(Es9Function::InitiateAuthentication))
    }
    async fn authenticate_client(
        &mut self,
        _: &str,
        _: &AuthenticateClientRequest,
        _: &Profile,
    ) -> Result<AuthenticateClientOk, Es9Error> {
        Err(offline(Es9Function::AuthenticateClient))
    }
    async fn get_bound_profile_package(
        &mut self,
        _: &str,
        _: &GetBoundProfilePackageRequest,
        _: &Profile,
    ) -> Result<GetBoundProfilePackageOk, Es9Error> {
        Err(offline(Es9Function::GetBoundProfilePackage))
    }
    async fn handle_notification(
        &mut self,
        _: &str,
        _: &PendingNotification,
        _: &Profile,
    ) -> Result<(), Es9Error> {
        Err(offline(Es9Function::HandleNotification))
    }
    async fn cancel_session(
        &mut self,
        _: &str,
        _: &CancelSessionRequestEs9,
        _: &Profile,
    ) -> Result<(), Es9Error> {
        Err(offline(Es9Function::CancelSession))
    }
}
