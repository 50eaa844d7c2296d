//! Scenario#3 key establishment, card side (GP Amendment E ECKA-EG; SGP.02 §3.1.2, §3.8; `sgp02.md`
//! §14). The command layouts, the signed data (C-18) and the receipt input come from `rsp-gp` (one
//! definition for the servers and the card); this module adds the card's checks and the key
//! derivation (U-17):
//!
//! - `3A01 { 7F21 }` → `85 L RC` (RC: `CardConfig::challenge_len` random bytes, 16 by default).
//! - `3A02 { A6 } ‖ 7F49 { B0 [F0] } ‖ 5F37`: the signature (raw `r‖s`) must verify with the
//!   certificate's key over `3A02 DGI ‖ 7F49 TLV ‖ 85 L RC` exactly as received
//!   ([`rsp_gp::command::signed_data`]). The `5F37`-less njiwa SCP81 variant is refused.
//! - CRT: scenario `03`; parameter bit `02` asks for a DR (16 bytes); bit `04` (SDIN/HostID) is not
//!   supported; key length 16, 24 or 32.
//! - ShS = ECDH(SK.ECASD.ECKA, ePK); SharedInfo = key usage ‖ key type ‖ key length ‖ \[DR\]; X9.63
//!   output split receipt key, Key-ENC, Key-MAC, Key-DEK ([`rsp_crypto::kdf`]).
//! - Response `[85 L DR] ‖ 86 10 receipt`, receipt = AES-CMAC(receipt key, `A6` TLV ‖ \[`85 L DR`\]).

use rsp_crypto::ecc::{Curve, PublicKey};
use rsp_crypto::gpcert;
use rsp_crypto::kdf::{self, Scenario3Keys, Scenario3SharedInfo};
use rsp_gp::command::{KeyAgreement, KeyAgreementCrt, KeyAgreementRaw, PublicKeyDo};

use super::error::CardError;

/// Length of the Derivation Random the card produces.
pub const DR_LEN: usize = 16;

/// A received `3A02` body: the raw parts the signature and receipt cover, and the parsed values.
#[derive(Debug)]
pub struct ReceivedKeyAgreement<'a> {
    /// Raw parts.
    pub raw: KeyAgreementRaw<'a>,
    /// Parsed parts.
    pub parsed: KeyAgreement,
}

/// Splits and parses a `3A02` STORE DATA body and checks what this card supports.
pub fn parse(body: &[u8]) -> Result<ReceivedKeyAgreement<'_>, CardError> {
    let raw = KeyAgreement::split_raw(body).map_err(|e| CardError::Malformed(e.to_string()))?;
    let parsed = KeyAgreement::parse_body(body).map_err(|e| CardError::Malformed(e.to_string()))?;
    let crt = &parsed.crt;
    if crt.scenario != KeyAgreementCrt::SCENARIO_3 {
        return Err(CardError::NotSupported(
            "key establishment other than Scenario#3",
        ));
    }
    if crt.scenario_parameters & KeyAgreementCrt::SCENARIO_INCLUDE_SDIN_HOST_ID != 0
        || crt.sdin.is_some()
        || crt.host_id.is_some()
    {
        return Err(CardError::NotSupported("SDIN / HostID in the derivation"));
    }
    if !matches!(crt.key_length, 16 | 24 | 32) {
        return Err(CardError::Malformed(
            "key length must be 16, 24 or 32".into(),
        ));
    }
    if raw.signature.is_none() {
        return Err(CardError::BadSignature);
    }
    Ok(ReceivedKeyAgreement { raw, parsed })
}

/// The ephemeral public key of `7F49`, which must lie on `curve` (the ECASD's).
pub fn public_key(pk: &PublicKeyDo, curve: Curve) -> Result<PublicKey, CardError> {
    if let Some(reference) = pk.key_parameter_reference {
        let named = gpcert::curve_from_key_parameter_reference(reference)
            .map_err(|e| CardError::Malformed(e.to_string()))?;
        if named != curve {
            return Err(CardError::Malformed(
                "ephemeral key on another curve than the ECASD".into(),
            ));
        }
    }
    PublicKey::from_sec1(curve, &pk.q)
        .map_err(|e| CardError::Malformed(format!("ephemeral key: {e}")))
}

/// The `7F49` data object of a public key (for off-card use and tests).
pub fn public_key_do(key: &PublicKey) -> PublicKeyDo {
    PublicKeyDo {
        q: key.to_sec1_uncompressed().to_vec(),
        key_parameter_reference: Some(gpcert::key_parameter_reference(key.curve())),
    }
}

/// Derives the key set from ShS per the CRT (U-17), with the optional DR.
pub fn derive_keys(
    shared_secret: &[u8],
    crt: &KeyAgreementCrt,
    dr: Option<&[u8]>,
) -> Result<Scenario3Keys, CardError> {
    let info = Scenario3SharedInfo {
        key_usage: crt.key_usage,
        key_type: crt.key_type,
        key_length: crt.key_length,
        derivation_random: dr,
        host_id: None,
        sin_sdin: None,
    };
    kdf::derive_scenario3_keys(shared_secret, &info).map_err(|e| CardError::Internal(e.to_string()))
}

/// The receipt: AES-CMAC with the receipt key over [`rsp_gp::command::receipt_input`].
pub fn receipt(
    receipt_key: &[u8],
    crt_tlv: &[u8],
    dr: Option<&[u8]>,
) -> Result<Vec<u8>, CardError> {
    let input = rsp_gp::command::receipt_input(crt_tlv, dr)
        .map_err(|e| CardError::Internal(e.to_string()))?;
    let key = rsp_crypto::aes::AesKey::new(receipt_key)
        .map_err(|e| CardError::Internal(e.to_string()))?;
    Ok(key.cmac(&input).to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receipt_matches_rsp_crypto() {
        // The rsp-gp receipt input and rsp-crypto's receipt function describe the same bytes.
        let crt = [0xA6, 0x03, 0x90, 0x01, 0x03];
        let key = [7u8; 16];
        for dr in [None, Some(&[9u8; 16][..])] {
            let ours = receipt(&key, &crt, dr).unwrap();
            let theirs = kdf::scenario3_receipt(&key, &crt, dr).unwrap();
            assert_eq!(ours, theirs.to_vec());
        }
    }
}
