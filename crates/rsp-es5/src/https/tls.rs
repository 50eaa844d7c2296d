//! PSK-TLS 1.2 contexts for both ends of the SCP81 link, on OpenSSL (rustls has no PSK suites).
//!
//! Both ends: TLS 1.2 only, PSK cipher suites only, no session resumption (no tickets, no session
//! cache), no compression.

use std::sync::Arc;

use openssl::error::ErrorStack;
use openssl::ex_data::Index;
use openssl::ssl::{
    Ssl, SslContext, SslContextBuilder, SslMethod, SslOptions, SslSessionCacheMode, SslVerifyMode,
    SslVersion,
};

use super::identity::{Psk, PskIdentity, PskKeyStore};

/// A TLS 1.2 PSK cipher suite that SGP.02 §2.4.4 allows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PskCipherSuite {
    /// `TLS_PSK_WITH_AES_128_GCM_SHA256` (RFC 5487), preferred.
    Aes128GcmSha256,
    /// `TLS_PSK_WITH_AES_128_CBC_SHA256` (RFC 5487).
    Aes128CbcSha256,
}

impl PskCipherSuite {
    /// Both suites, GCM first.
    pub const ALL: [PskCipherSuite; 2] = [
        PskCipherSuite::Aes128GcmSha256,
        PskCipherSuite::Aes128CbcSha256,
    ];

    /// OpenSSL's name.
    pub const fn openssl_name(self) -> &'static str {
        match self {
            PskCipherSuite::Aes128GcmSha256 => "PSK-AES128-GCM-SHA256",
            PskCipherSuite::Aes128CbcSha256 => "PSK-AES128-CBC-SHA256",
        }
    }

    /// The IANA name.
    pub const fn iana_name(self) -> &'static str {
        match self {
            PskCipherSuite::Aes128GcmSha256 => "TLS_PSK_WITH_AES_128_GCM_SHA256",
            PskCipherSuite::Aes128CbcSha256 => "TLS_PSK_WITH_AES_128_CBC_SHA256",
        }
    }

    /// The suite with this OpenSSL or IANA name.
    pub fn from_name(name: &str) -> Option<PskCipherSuite> {
        PskCipherSuite::ALL
            .into_iter()
            .find(|s| s.openssl_name() == name || s.iana_name() == name)
    }
}

/// Why a TLS context could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// No cipher suite configured.
    #[error("no PSK cipher suite configured")]
    NoCipherSuite,
    /// OpenSSL refused the configuration.
    #[error("OpenSSL: {0}")]
    OpenSsl(#[from] ErrorStack),
}

fn cipher_list(suites: &[PskCipherSuite]) -> Result<String, TlsSetupError> {
    if suites.is_empty() {
        return Err(TlsSetupError::NoCipherSuite);
    }
    Ok(suites
        .iter()
        .map(|s| s.openssl_name())
        .collect::<Vec<_>>()
        .join(":"))
}

fn common(builder: &mut SslContextBuilder, suites: &[PskCipherSuite]) -> Result<(), TlsSetupError> {
    builder.set_min_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_max_proto_version(Some(SslVersion::TLS1_2))?;
    builder.set_cipher_list(&cipher_list(suites)?)?;
    builder.set_options(SslOptions::NO_TICKET | SslOptions::NO_COMPRESSION);
    builder.set_session_cache_mode(SslSessionCacheMode::OFF);
    Ok(())
}

/// The server context and the index under which the handshake leaves the authenticated identity.
#[derive(Clone)]
pub(crate) struct ServerTls {
    pub(crate) context: SslContext,
    pub(crate) identity_index: Index<Ssl, PskIdentity>,
}

/// Builds the SM-SR's context: the PSK callback parses the identity, asks the key store, and
/// refuses unknown or malformed identities (the handshake then fails).
pub(crate) fn server_context(
    suites: &[PskCipherSuite],
    keys: Arc<dyn PskKeyStore>,
) -> Result<ServerTls, TlsSetupError> {
    let identity_index = Ssl::new_ex_index::<PskIdentity>()?;
    let mut builder = SslContextBuilder::new(SslMethod::tls_server())?;
    common(&mut builder, suites)?;
    builder.set_psk_server_callback(move |ssl, identity, psk_out| {
        let Some(raw) = identity else {
            tracing::info!("PSK-TLS: client sent no identity");
            return Ok(0);
        };
        let identity = match PskIdentity::parse(raw) {
            Ok(identity) => identity,
            Err(error) => {
                tracing::info!(%error, "PSK-TLS: malformed identity refused");
                return Ok(0);
            }
        };
        let Some(psk) = keys.scp81_psk(&identity) else {
            tracing::info!(
                eid = %identity.eid,
                key_version = identity.key_version,
                key_id = identity.key_id,
                "PSK-TLS: unknown identity refused"
            );
            return Ok(0);
        };
        let key = psk.as_bytes();
        let Some(slot) = psk_out.get_mut(..key.len()) else {
            return Ok(0);
        };
        slot.copy_from_slice(key);
        ssl.set_ex_data(identity_index, identity);
        Ok(key.len())
    });
    Ok(ServerTls {
        context: builder.build(),
        identity_index,
    })
}

/// Builds a card's context for one identity and key.
pub(crate) fn client_context(
    suites: &[PskCipherSuite],
    identity: &PskIdentity,
    psk: &Psk,
) -> Result<SslContext, TlsSetupError> {
    let mut builder = SslContextBuilder::new(SslMethod::tls_client())?;
    common(&mut builder, suites)?;
    // PSK suites carry no certificate; there is nothing to verify beyond the PSK itself.
    builder.set_verify(SslVerifyMode::NONE);
    let identity_text = identity.to_text().into_bytes();
    let psk = psk.clone();
    builder.set_psk_client_callback(move |_ssl, _hint, identity_out, psk_out| {
        // The identity is written as a NUL-terminated C string.
        let key = psk.as_bytes();
        let (Some(id_slot), Some(key_slot)) = (
            identity_out.get_mut(..=identity_text.len()),
            psk_out.get_mut(..key.len()),
        ) else {
            return Ok(0);
        };
        let (text, nul) = id_slot.split_at_mut(identity_text.len());
        text.copy_from_slice(&identity_text);
        nul.fill(0);
        key_slot.copy_from_slice(key);
        Ok(key.len())
    });
    Ok(builder.build())
}
