//! The ES9+ ASN.1 binding (SGP.22 §6.6): `POST /gsma/rsp2/asn1` with one
//! `RemoteProfileProvisioningRequest` and one `RemoteProfileProvisioningResponse` (`[2] CHOICE`,
//! tag `A2`), whose alternatives are the ES9+ messages by their own tags.

use crate::messages::auth::{
    AuthenticateClientRequest, AuthenticateClientResponseEs9, InitiateAuthenticationRequest,
    InitiateAuthenticationResponse,
};
use crate::messages::download::{
    CancelSessionRequestEs9, CancelSessionResponseEs9, GetBoundProfilePackageRequest,
    GetBoundProfilePackageResponse, HandleNotification,
};
use crate::version::Gate;

crate::der_choice! {
    /// `RemoteProfileProvisioningRequest ::= [2] CHOICE` (LPA → SM-DP+).
    pub enum RemoteProfileProvisioningRequest = "RemoteProfileProvisioningRequest" tag 0xA2 {
        /// `initiateAuthenticationRequest` (`BF39`).
        InitiateAuthentication (own) (InitiateAuthenticationRequest) => Gate::Always,
        /// `authenticateClientRequest` (`BF3B`).
        AuthenticateClient (own) (AuthenticateClientRequest) => Gate::Always,
        /// `getBoundProfilePackageRequest` (`BF3A`).
        GetBoundProfilePackage (own) (GetBoundProfilePackageRequest) => Gate::Always,
        /// `cancelSessionRequestEs9` (`BF41`).
        CancelSession (own) (CancelSessionRequestEs9) => Gate::Always,
        /// `handleNotification` (`BF3D`).
        HandleNotification (own) (HandleNotification) => Gate::Always,
    }
}

crate::der_choice! {
    /// `RemoteProfileProvisioningResponse ::= [2] CHOICE` (SM-DP+ → LPA). HandleNotification
    /// has no response (HTTP 204).
    pub enum RemoteProfileProvisioningResponse = "RemoteProfileProvisioningResponse" tag 0xA2 {
        /// `initiateAuthenticationResponse` (`BF39`).
        InitiateAuthentication (own) (InitiateAuthenticationResponse) => Gate::Always,
        /// `authenticateClientResponseEs9` (`BF3B`).
        AuthenticateClient (own) (AuthenticateClientResponseEs9) => Gate::Always,
        /// `getBoundProfilePackageResponse` (`BF3A`).
        GetBoundProfilePackage (own) (GetBoundProfilePackageResponse) => Gate::Always,
        /// `cancelSessionResponseEs9` (`BF41`).
        CancelSession (own) (CancelSessionResponseEs9) => Gate::Always,
    }
}
