//! SGP.22 messages declared with [`der_sequence!`](crate::der_sequence).
//!
//! Tags and gates follow `sgp22.md` §3.3 and §4 (ASN.1 of SGP.22 v3.1).

use rsp_types::{Oid, Svn};

use crate::capability::ServerRspCapability;
use crate::types::{Octet16, TransactionId};
use crate::version::{Feature, Gate, V3_0_0};

crate::der_sequence! {
    /// `SessionContext` (v3): the server's session parameters inside `ServerSigned1 [5]`. It
    /// carries `supportedPushServices` (C-28).
    pub struct SessionContext = "SessionContext" {
        /// `serverSvn [0] VersionType`.
        [0] server_svn: req Svn => Gate::Always,
        /// `crlStaplingV3Used [1] BOOLEAN`.
        [1] crl_stapling_v3_used: req bool => Gate::Always,
        /// `euiccCiPKIdToBeUsedV3 [2] SubjectKeyIdentifier OPTIONAL`.
        [2] euicc_ci_pk_id_to_be_used_v3: opt Vec<u8> => Gate::Always,
        /// `supportedPushServices [3] SEQUENCE OF OBJECT IDENTIFIER OPTIONAL`; sent only when
        /// Push Service is in use with the peer (U-38).
        [3] supported_push_services: opt Vec<Oid> => Gate::SupportedFor(Feature::PushService, V3_0_0),
    }
}

crate::der_sequence! {
    /// `ServerSigned1`: signed by the SM-DP+ / SM-DS, returned by `ES9+.InitiateAuthentication`.
    /// The v3 fields `sessionContext` and `serverRspCapability` (C-30) are never sent to a v2
    /// peer and always sent to a v3 peer.
    pub struct ServerSigned1 = "ServerSigned1" {
        /// `transactionId [0] TransactionId` (OCTET STRING 1..16).
        [0] transaction_id: req TransactionId => Gate::Always,
        /// `euiccChallenge [1] Octet16`.
        [1] euicc_challenge: req Octet16 => Gate::Always,
        /// `serverAddress [3] UTF8String`.
        [3] server_address: req String => Gate::Always,
        /// `serverChallenge [4] Octet16`.
        [4] server_challenge: req Octet16 => Gate::Always,
        /// `sessionContext [5] SessionContext OPTIONAL`.
        [5] session_context: opt SessionContext => Gate::MandatoryFrom(V3_0_0),
        /// `serverRspCapability [6] ServerRspCapability OPTIONAL`.
        [6] server_rsp_capability: opt ServerRspCapability => Gate::MandatoryFrom(V3_0_0),
    }
}
