//! ES11 as the LPA calls it (sgp22.md §14): Common Mutual Authentication with an SM-DS, then its
//! event list. The requests are the ES9+ ones (InitiateAuthentication with the SM-DS address,
//! AuthenticateClient with the card's answer); the answer is
//! [`AuthenticateClientOkEs11`](rsp_sgp22::AuthenticateClientOkEs11): a v2 `eventEntries` list
//! or a v3 `smdsSigned2` + `smdsSignature2` that only the eUICC can vouch for
//! (ES10b.VerifySmdsResponse).
//!
//! ES11 has no CancelSession: an interrupted discovery is simply dropped (the card's session is
//! replaced by the next AuthenticateServer and can never reach PrepareDownload).
//!
//! Failures reuse [`Es9Error`] with the function of the same name
//! ([`Es9Function::InitiateAuthentication`](crate::Es9Function),
//! [`Es9Function::AuthenticateClient`](crate::Es9Function)).

use async_trait::async_trait;
use rsp_sgp22::{
    AuthenticateClientOkEs11, AuthenticateClientRequest, InitiateAuthenticationOk,
    InitiateAuthenticationRequest, Profile,
};
use rsp_types::Svn;

use crate::es9::Es9Error;

/// ES11 towards an SM-DS; `address` is the SM-DS FQDN, `peer` the receiver's profile.
#[async_trait]
pub trait Es11Client: Send {
    /// `ES11.InitiateAuthentication`.
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error>;

    /// `ES11.AuthenticateClient`: the event list.
    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<AuthenticateClientOkEs11, Es9Error>;

    /// The version the SM-DS declared in its last `X-Admin-Protocol` header, if any.
    fn last_admin_protocol(&self) -> Option<Svn> {
        None
    }
}
