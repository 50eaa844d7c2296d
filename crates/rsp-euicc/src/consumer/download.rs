//! ES10b before the package: GetEUICCChallenge, GetEUICCInfo1/2, AuthenticateServer,
//! PrepareDownload, CancelSession, and (v3) VerifySmdsResponse.
//!
//! AuthenticateServer accepts an SM-DP+ (CERT.DPauth) or an SM-DS (CERT.DSauth, ES11 event
//! retrieval); the session remembers which. A session an SM-DS authenticated never leads to a
//! profile binding: PrepareDownload refuses it (noSession). VerifySmdsResponse checks the SM-DS's
//! signed event list with the session's CERT.DSauth key over `DER(smdsSigned2) ‖
//! euiccSignature1 TLV`, then ends the session.

use rsp_crypto::ecc::PrivateKey;
use rsp_crypto::x509::{self, Certificate, Sgp22Role, X509Error};
use rsp_sgp22::authenticate_error as ae;
use rsp_sgp22::download_error as de;
use rsp_sgp22::{
    AuthenticateResponseError, AuthenticateResponseOk, AuthenticateServerRequest,
    AuthenticateServerResponse, BitString, CancelSessionRequest, CancelSessionResponse,
    CancelSessionResponseOk, Certificate as CertDer, EuiccCancelSessionSigned, EuiccInfo1,
    EuiccInfo2, EuiccSigned1, EuiccSigned2, GetEuiccChallengeResponse, Octet16,
    PrepareDownloadRequest, PrepareDownloadResponse, PrepareDownloadResponseError,
    PrepareDownloadResponseOk, SeqOf, Signed, TransactionId, VerifySmdsResponseOk,
    VerifySmdsResponseRequest, VerifySmdsResponseResponse, verify_smds_response_error as ve,
};
use rsp_types::Oid;
use time::OffsetDateTime;

use super::card::{ConsumerEuicc, Prepared, RetainedOtk, Session};
use super::error::Refusal;
use super::issue::generate_key;
use super::notify::signature_tlv;

/// Maps a certificate refusal to an AuthenticateErrorCode / DownloadErrorCode (the values 1, 3,
/// 7 and 12 coincide for the cases used here; `v3` selects invalidCertOrCrlTime for dates).
fn certificate_error(e: &X509Error, v3: bool, unknown_ci: i64) -> i64 {
    match e {
        X509Error::UnsupportedCurve { .. } => ae::UNSUPPORTED_CURVE,
        X509Error::UnknownIssuer { .. } | X509Error::UntrustedRoot { .. } => unknown_ci,
        X509Error::NotYetValid { .. } | X509Error::Expired { .. } if v3 => {
            ae::INVALID_CERT_OR_CRL_TIME
        }
        _ => ae::INVALID_CERTIFICATE,
    }
}

/// RFC 5280 §4.1.1.2: the certificate's signatureAlgorithm is the same AlgorithmIdentifier as
/// the TBS `signature` field (compared as encoded).
fn consistent_signature_algorithm(der: &[u8]) -> bool {
    let parts = || -> Option<bool> {
        let cert = rsp_types::tlv::parse_single(der).ok()?;
        let mut top = cert.children();
        let tbs = top.next()?.ok()?;
        let outer_alg = top.next()?.ok()?;
        let mut fields = tbs.children();
        let mut first = fields.next()?.ok()?;
        if first.raw().first() == Some(&0xA0) {
            // version [0], then serialNumber.
            fields.next()?.ok()?;
        }
        first = fields.next()?.ok()?;
        Some(first.raw() == outer_alg.raw())
    };
    parts().unwrap_or(false)
}

/// The ctxParams1 TLV of an AuthenticateServerRequest as received: its fifth element (after
/// serverSigned1, serverSignature1, euiccCiPKIdToBeUsed and serverCertificate).
fn raw_ctx_params(request: &[u8]) -> Option<&[u8]> {
    let outer = rsp_types::tlv::parse_single(request).ok()?;
    outer.children().nth(4)?.ok().map(|t| t.raw())
}

/// `encoded` (an EuiccSigned1, ctxParams1 last) with its last element replaced by `raw_ctx`.
fn with_received_ctx_params(encoded: &[u8], raw_ctx: &[u8]) -> Option<Vec<u8>> {
    let outer = rsp_types::tlv::parse_single(encoded).ok()?;
    let children = outer.children().collect::<Result<Vec<_>, _>>().ok()?;
    let (_, rest) = children.split_last()?;
    let mut body: Vec<u8> = rest.iter().flat_map(|c| c.raw().iter().copied()).collect();
    body.extend_from_slice(raw_ctx);
    let mut out = vec![0x30];
    rsp_types::tlv::encode_length(body.len(), &mut out).ok()?;
    out.extend_from_slice(&body);
    Some(out)
}

/// What AuthenticateServer verified about the server.
struct ServerChecked {
    /// The credential that signs for this session.
    credential: usize,
    /// CERT.DPauth or CERT.DSauth.
    role: Sgp22Role,
    /// The certificate's public key.
    key: rsp_crypto::ecc::PublicKey,
    /// The certificate's registeredID.
    oid: Oid,
}

impl ConsumerEuicc {
    /// The time certificates are checked at: the card's clock when set, else the leaf's
    /// notBefore (a card without a trusted clock does not check expiry).
    fn verification_time(&self, leaf: &Certificate) -> OffsetDateTime {
        if self.state.now.0 == 0 {
            return leaf.not_before();
        }
        i64::try_from(self.state.now.0)
            .ok()
            .and_then(|t| OffsetDateTime::from_unix_timestamp(t).ok())
            .unwrap_or_else(|| leaf.not_before())
    }

    /// Verifies a server certificate (+ chain) against the trusted CIs with `role`.
    fn verify_server_certificate(
        &self,
        der: &[u8],
        others: &[CertDer],
        role: Sgp22Role,
    ) -> Result<Certificate, X509Error> {
        let leaf = Certificate::from_der(der)?;
        let mut intermediates = Vec::new();
        for o in others {
            intermediates.push(Certificate::from_der(o.der())?);
        }
        for c in std::iter::once(der).chain(others.iter().map(CertDer::der)) {
            if !consistent_signature_algorithm(c) {
                return Err(X509Error::Malformed(
                    "signatureAlgorithm differs from the TBS signature field".into(),
                ));
            }
        }
        let at = self.verification_time(&leaf);
        x509::verify_sgp22_chain(
            &leaf,
            &intermediates,
            &self.identity.ci_certificates,
            at,
            role,
        )?;
        Ok(leaf)
    }

    /// The free non-volatile memory.
    pub fn free_memory(&self) -> u64 {
        let used: u64 = self.state.profiles.iter().map(|p| p.upp.len() as u64).sum();
        self.config.free_memory.saturating_sub(used)
    }

    /// `svn` / `lowestSvn`: a v2 card states its version (v2 `svn`), a v3 card its lowest.
    fn info_svn(&self) -> rsp_types::Svn {
        if self.config.is_v3() {
            self.config.lowest_svn
        } else {
            self.config.highest_svn
        }
    }

    /// EUICCInfo1 as this card states it (the v3 fields are set; the gated encoder drops them
    /// for a v2 card's own profile).
    pub fn euicc_info1(&self) -> EuiccInfo1 {
        let signing = SeqOf(self.identity.signing_ids());
        let in_info1 = self
            .config
            .capability
            .has(rsp_sgp22::EuiccRspCapability::EUICC_RSP_CAP_IN_INFO1);
        EuiccInfo1 {
            lowest_svn: self.info_svn(),
            euicc_ci_pk_id_list_for_verification: SeqOf(self.identity.verification_ids()),
            euicc_ci_pk_id_list_for_signing: signing.clone(),
            euicc_ci_pk_id_list_for_signing_v3: Some(signing),
            euicc_rsp_capability: in_info1.then(|| self.config.capability.clone()),
            highest_svn: Some(self.config.highest_svn),
            unknown_tags: vec![],
        }
    }

    /// EUICCInfo2 as this card states it.
    pub fn euicc_info2(&self) -> EuiccInfo2 {
        let signing = SeqOf(self.identity.signing_ids());
        // ETSI TS 102 226 extended card resources: installed applications, free NVM, free RAM.
        let free = u32::try_from(self.free_memory()).unwrap_or(u32::MAX);
        let mut ext = vec![
            0x81,
            0x01,
            self.state.profiles.len().min(255) as u8,
            0x82,
            0x04,
        ];
        ext.extend_from_slice(&free.to_be_bytes());
        ext.extend_from_slice(&[0x83, 0x02, 0x20, 0x00]);
        // UICCCapability: usimSupport(1), isimSupport(2), akaMilenage(4), akaTuak128(6),
        // akaTuak256(7).
        let mut uicc = BitString::default();
        for bit in [1, 2, 4, 6, 7] {
            uicc.set(bit, true);
        }
        EuiccInfo2 {
            base_profile_package_version: self.config.base_profile_package_version,
            lowest_svn: self.info_svn(),
            euicc_firmware_version: self.config.firmware_version,
            ext_card_resource: ext,
            uicc_capability: uicc,
            ts102241_version: self.config.ts102241_version,
            global_platform_version: self.config.global_platform_version,
            euicc_rsp_capability: self.config.capability.clone(),
            euicc_ci_pk_id_list_for_verification: SeqOf(self.identity.verification_ids()),
            euicc_ci_pk_id_list_for_signing: signing.clone(),
            euicc_category: self.config.euicc_category,
            forbidden_profile_policy_rules: None,
            pp_version: self.config.pp_version,
            sas_accreditation_number: self.config.sas_accreditation_number.clone(),
            certification_data_object: None,
            tre_properties: None,
            tre_product_reference: None,
            additional_profile_package_versions: if self
                .config
                .additional_profile_package_versions
                .is_empty()
            {
                None
            } else {
                Some(SeqOf(
                    self.config.additional_profile_package_versions.clone(),
                ))
            },
            lpa_mode: None,
            euicc_ci_pk_id_list_for_signing_v3: Some(signing),
            additional_euicc_info: None,
            highest_svn: Some(self.config.highest_svn),
            iot_specific_info: None,
            unknown_tags: vec![],
        }
    }

    /// ES10b.GetEUICCChallenge: a fresh challenge (replacing any earlier one).
    pub(crate) fn get_challenge(&mut self) -> Result<Vec<u8>, Refusal> {
        let mut c = [0u8; 16];
        self.state.rng.fill(&mut c);
        self.volatile.challenge = Some(Octet16(c));
        Ok(GetEuiccChallengeResponse {
            euicc_challenge: Octet16(c),
            unknown_tags: vec![],
        }
        .encode(&self.own_profile())?)
    }

    /// ES10b.AuthenticateServer.
    pub(crate) fn authenticate_server(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = AuthenticateServerRequest::decode(cmd)?;
        // Everything signed and sent from here on is encoded for the server: a v2 server (no
        // sessionContext in serverSigned1) never receives a v3 element, even from a v3 card.
        let profile = self.profile_for_server(req.server_signed1.value());
        let transaction_id = req.server_signed1.value().transaction_id.clone();
        match self.check_server(&req) {
            Ok(checked) => {
                let ServerChecked {
                    credential,
                    role,
                    key,
                    oid: smdp_oid,
                } = checked;
                let curve = key.curve();
                // The challenge is used once.
                self.volatile.challenge = None;
                let signed1 = req.server_signed1.value();
                let euicc_signed1 = Signed::new(
                    EuiccSigned1 {
                        transaction_id: transaction_id.clone(),
                        server_address: signed1.server_address.clone(),
                        server_challenge: signed1.server_challenge,
                        euicc_info2: self.euicc_info2(),
                        ctx_params1: req.ctx_params1.clone(),
                        unknown_tags: vec![],
                    },
                    &profile,
                )
                .map_err(|_| Refusal::Internal);
                // ctxParams1 is signed exactly as received (not as re-encoded for the card's
                // version), so the server finds the LPA's DeviceInfo byte for byte.
                let euicc_signed1 = euicc_signed1.ok().and_then(|s| {
                    let spliced = with_received_ctx_params(s.raw(), raw_ctx_params(cmd)?)?;
                    Signed::decode(&spliced, EuiccSigned1::decode).ok()
                });
                let Some(euicc_signed1) = euicc_signed1 else {
                    // A ctxParams1 this card's version cannot carry.
                    return self.auth_error(transaction_id, ae::UNDEFINED_ERROR);
                };
                let signature = self.sign(credential, euicc_signed1.raw())?;
                let c = self
                    .identity
                    .credentials
                    .get(credential)
                    .ok_or(Refusal::Internal)?;
                let response = AuthenticateServerResponse::Ok(AuthenticateResponseOk {
                    euicc_signed1,
                    euicc_signature1: signature.clone(),
                    euicc_certificate: CertDer(c.euicc_certificate.der().to_vec()),
                    next_cert_in_chain: CertDer(c.eum_certificate.der().to_vec()),
                    other_certs_in_chain: if c.other_certificates.is_empty() {
                        None
                    } else {
                        Some(SeqOf(
                            c.other_certificates
                                .iter()
                                .map(|o| CertDer(o.der().to_vec()))
                                .collect(),
                        ))
                    },
                    unknown_tags: vec![],
                })
                .encode(&profile)?;
                self.volatile.session = Some(Session {
                    transaction_id,
                    server_address: signed1.server_address.clone(),
                    smdp_oid,
                    server_role: role,
                    server_key: key,
                    credential,
                    curve,
                    euicc_signature1_tlv: signature_tlv(&signature)?,
                    prepared: None,
                });
                self.volatile.bpp = None;
                Ok(response)
            }
            Err(code) => self.auth_error(transaction_id, code),
        }
    }

    fn auth_error(&self, transaction_id: TransactionId, code: i64) -> Result<Vec<u8>, Refusal> {
        Ok(
            AuthenticateServerResponse::Error(AuthenticateResponseError {
                transaction_id,
                authenticate_error_code: code,
                unknown_tags: vec![],
            })
            .encode(&self.own_profile())?,
        )
    }

    /// The eUICC checks of AuthenticateServer, in order: CERT.DPauth or CERT.DSauth (chain to
    /// a trusted CI, role, curve, server OID), serverSignature1 over the received serverSigned1
    /// bytes, euiccChallenge, euiccCiPKIdToBeUsed. Returns the credential, the role that
    /// authenticated, the certificate's key and the server OID.
    fn check_server(&self, req: &AuthenticateServerRequest) -> Result<ServerChecked, i64> {
        let v3 = self.config.is_v3();
        let others = req
            .other_certs_in_chain
            .as_ref()
            .map(|s| s.0.as_slice())
            .unwrap_or_default();
        // The role is the one the leaf claims, if it is one of the two authentication roles;
        // anything else is checked (and refused) as a CERT.DPauth.
        let role = match Certificate::from_der(req.server_certificate.der())
            .ok()
            .and_then(|c| c.sgp22_role())
        {
            Some(Sgp22Role::DsAuth) => Sgp22Role::DsAuth,
            _ => Sgp22Role::DpAuth,
        };
        let cert = self
            .verify_server_certificate(req.server_certificate.der(), others, role)
            .map_err(|e| certificate_error(&e, v3, ae::CI_PK_UNKNOWN))?;
        let smdp_oid: Oid = cert
            .registered_ids()
            .first()
            .and_then(|s| s.parse().ok())
            .ok_or(ae::INVALID_OID)?;
        let key = cert
            .public_key()
            .cloned()
            .map_err(|_| ae::INVALID_CERTIFICATE)?;
        key.verify_raw(req.server_signed1.raw(), &req.server_signature1)
            .map_err(|_| ae::INVALID_SIGNATURE)?;
        match self.volatile.challenge {
            None => return Err(ae::NO_SESSION),
            Some(c) if c != req.server_signed1.value().euicc_challenge => {
                return Err(ae::EUICC_CHALLENGE_MISMATCH);
            }
            Some(_) => {}
        }
        let credential = self
            .identity
            .credentials
            .iter()
            .position(|c| c.ci_pk_id == req.euicc_ci_pk_id_to_be_used)
            .ok_or(ae::CI_PK_UNKNOWN)?;
        Ok(ServerChecked {
            credential,
            role,
            key,
            oid: smdp_oid,
        })
    }

    fn download_error(&self, transaction_id: TransactionId, code: i64) -> Result<Vec<u8>, Refusal> {
        Ok(
            PrepareDownloadResponse::Error(PrepareDownloadResponseError {
                transaction_id,
                download_error_code: code,
                unknown_tags: vec![],
            })
            .encode(&self.own_profile())?,
        )
    }

    /// ES10b.PrepareDownload.
    pub(crate) fn prepare_download(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = PrepareDownloadRequest::decode(cmd)?;
        let profile = self.own_profile();
        let signed2 = req.smdp_signed2.value();
        let transaction_id = signed2.transaction_id.clone();
        // An SM-DS session (CERT.DSauth) never leads to a profile binding.
        let Some(session) = self
            .volatile
            .session
            .as_ref()
            .filter(|s| s.server_role == Sgp22Role::DpAuth)
        else {
            return self.download_error(transaction_id, de::NO_SESSION);
        };
        let curve = session.curve;
        let cert = match self.verify_server_certificate(
            req.smdp_certificate.der(),
            &[],
            Sgp22Role::DpPb,
        ) {
            Ok(c) => c,
            Err(e) => {
                let code = match certificate_error(&e, false, de::INVALID_CERTIFICATE) {
                    ae::UNSUPPORTED_CURVE => de::UNSUPPORTED_CURVE,
                    _ => de::INVALID_CERTIFICATE,
                };
                return self.download_error(transaction_id, code);
            }
        };
        let Ok(key) = cert.public_key() else {
            return self.download_error(transaction_id, de::INVALID_CERTIFICATE);
        };
        let mut signed_data = req.smdp_signed2.raw().to_vec();
        signed_data.extend_from_slice(&session.euicc_signature1_tlv);
        if key.verify_raw(&signed_data, &req.smdp_signature2).is_err() {
            return self.download_error(transaction_id, de::INVALID_SIGNATURE);
        }
        if transaction_id != session.transaction_id {
            return self.download_error(transaction_id, de::INVALID_TRANSACTION_ID);
        }
        if signed2.cc_required_flag != req.hash_cc.is_some() {
            return self.download_error(transaction_id, de::UNDEFINED_ERROR);
        }
        let credential = session.credential;
        // Re-use the retained one-time key when the SM-DP+ names it, else a new one.
        let reuse = match (&signed2.bpp_euicc_otpk, &self.state.retained_otk) {
            (Some(wanted), Some(kept))
                if kept.key.curve() == curve
                    && kept.key.public_key().to_sec1_uncompressed().as_slice()
                        == wanted.as_slice() =>
            {
                kept.key.try_clone().ok()
            }
            _ => None,
        };
        let otsk: PrivateKey = match reuse {
            Some(k) => k,
            None => generate_key(curve, &mut self.state.rng).map_err(|_| Refusal::Internal)?,
        };
        let otpk = otsk.public_key().to_sec1_uncompressed().to_vec();
        let euicc_signed2 = Signed::new(
            EuiccSigned2 {
                transaction_id,
                euicc_otpk: otpk,
                hash_cc: req.hash_cc.clone(),
                unknown_tags: vec![],
            },
            &profile,
        )?;
        let mut to_sign = euicc_signed2.raw().to_vec();
        to_sign.extend_from_slice(&signature_tlv(&req.smdp_signature2)?);
        let signature = self.sign(credential, &to_sign)?;
        let response = PrepareDownloadResponse::Ok(PrepareDownloadResponseOk {
            euicc_signed2,
            euicc_signature2: signature,
            unknown_tags: vec![],
        })
        .encode(&profile)?;
        self.state.retained_otk = Some(RetainedOtk {
            key: otsk.try_clone().map_err(|_| Refusal::Internal)?,
        });
        if let Some(s) = self.volatile.session.as_mut() {
            s.prepared = Some(Prepared {
                otsk,
                smdp_certificate: cert,
            });
        }
        self.volatile.bpp = None;
        Ok(response)
    }

    fn verify_smds_error(&self, code: i64) -> Result<Vec<u8>, Refusal> {
        Ok(VerifySmdsResponseResponse::Error(code).encode(&self.own_profile())?)
    }

    /// ES10b.VerifySmdsResponse (v3; a v2 card does not know the command): smdsSignature2
    /// with the session's CERT.DSauth key over `DER(smdsSigned2) ‖ euiccSignature1 TLV`, then
    /// the transactionId. The session ends with the check, whatever its outcome.
    pub(crate) fn verify_smds_response(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        if !self.config.is_v3() {
            return Err(Refusal::Unknown);
        }
        let req = VerifySmdsResponseRequest::decode(cmd)?;
        let Some(session) = self
            .volatile
            .session
            .take_if(|s| s.server_role == Sgp22Role::DsAuth)
        else {
            return self.verify_smds_error(ve::NO_SESSION);
        };
        let mut signed_data = req.smds_signed2.raw().to_vec();
        signed_data.extend_from_slice(&session.euicc_signature1_tlv);
        if session
            .server_key
            .verify_raw(&signed_data, &req.smds_signature2)
            .is_err()
        {
            return self.verify_smds_error(ve::INVALID_SIGNATURE);
        }
        if req.smds_signed2.value().transaction_id != session.transaction_id {
            return self.verify_smds_error(ve::INVALID_TRANSACTION_ID);
        }
        self.volatile.bpp = None;
        Ok(VerifySmdsResponseResponse::Ok(VerifySmdsResponseOk {
            unknown_tags: vec![],
        })
        .encode(&self.own_profile())?)
    }

    /// ES10b.CancelSession.
    pub(crate) fn cancel_session(&mut self, cmd: &[u8]) -> Result<Vec<u8>, Refusal> {
        let req = CancelSessionRequest::decode(cmd)?;
        let profile = self.own_profile();
        let Some(session) = self
            .volatile
            .session
            .as_ref()
            .filter(|s| s.transaction_id == req.transaction_id)
        else {
            // invalidTransactionId
            return Ok(CancelSessionResponse::Error(5).encode(&profile)?);
        };
        let credential = session.credential;
        let signed = Signed::new(
            EuiccCancelSessionSigned {
                transaction_id: req.transaction_id.clone(),
                smdp_oid: session.smdp_oid.clone(),
                reason: req.reason,
                unknown_tags: vec![],
            },
            &profile,
        )?;
        let signature = self.sign(credential, signed.raw())?;
        let response = CancelSessionResponse::Ok(CancelSessionResponseOk {
            euicc_cancel_session_signed: signed,
            euicc_cancel_session_signature: signature,
            unknown_tags: vec![],
        })
        .encode(&profile)?;
        self.volatile.session = None;
        self.volatile.bpp = None;
        Ok(response)
    }
}
