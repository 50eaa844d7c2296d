//! [`HttpEs9Client`]: ES9+ over HTTPS with reqwest and rustls, in the JSON binding
//! (`POST /gsma/rsp2/es9plus/<function>`, sgp22.md §8) or the ASN.1 binding
//! (`POST /gsma/rsp2/asn1`). Every exchange goes to the [`WireLog`].
//!
//! Wire rules kept here: ES9+ requests carry no JSON `header`; `X-Admin-Protocol:
//! gsma/rsp/v<LPA version>` and `User-Agent: gsma-rsp-lpad` on every request; functional
//! failures are HTTP 200 with `functionExecutionStatus` (JSON) or the error alternative (ASN.1);
//! HandleNotification answers HTTP 204. Each request is the one gated DER encoding for the
//! receiver's profile; its JSON fields are taken from that encoding.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use rsp_sgp22::der::DerValue;
use rsp_sgp22::json;
use rsp_sgp22::{
    AuthenticateClientOk, AuthenticateClientRequest, AuthenticateClientResponseEs9,
    CancelSessionRequestEs9, CancelSessionResponseEs9, Certificate, GetBoundProfilePackageOk,
    GetBoundProfilePackageRequest, GetBoundProfilePackageResponse, HandleNotification,
    InitiateAuthenticationOk, InitiateAuthenticationRequest, InitiateAuthenticationResponse,
    PendingNotification, Profile, RawContent, RawTlv, RemoteProfileProvisioningRequest,
    RemoteProfileProvisioningResponse, SeqOf, ServerSigned1, Signed, SmdpSigned2,
    StoreMetadataRequest,
};
use rsp_types::Svn;
use rsp_types::tlv;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

use crate::es9::{Es9Client, Es9Error, Es9Function};
use crate::wire::{Binding, DerField, WireExchange, WireLog};

/// `User-Agent` of an LPAd (sgp22.md §8.1).
pub const USER_AGENT: &str = "gsma-rsp-lpad";
/// `Content-Type` of the ASN.1 binding.
pub const ASN1_CONTENT_TYPE: &str = "application/x-gsma-rsp-asn1";
/// Path of the ASN.1 binding.
pub const ASN1_PATH: &str = "/gsma/rsp2/asn1";
/// Path prefix of the JSON binding.
pub const JSON_PATH: &str = "/gsma/rsp2/es9plus/";

/// Why the HTTP client could not be set up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpSetupError {
    /// No usable trust root.
    #[error("no TLS trust root: give the CI (or TLS CA) certificate the SM-DP+ chains to")]
    NoTrustRoot,
    /// A trust root did not parse or was refused.
    #[error("trust root: {0}")]
    TrustRoot(String),
    /// reqwest refused the configuration.
    #[error("HTTP client: {0}")]
    Client(String),
}

/// Settings of the HTTPS client.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    /// JSON or ASN.1 binding.
    pub binding: Binding,
    /// The version sent in `X-Admin-Protocol` (the LPA's SGP.22 version).
    pub admin_protocol: Svn,
    /// `User-Agent`.
    pub user_agent: String,
    /// TLS trust roots (DER). The SGP.26 CI certificate for a test SM-DP+ whose DPtls chains to it.
    pub trust_roots: Vec<CertificateDer<'static>>,
    /// DNS overrides: host name → socket address (tests: the FQDN of the certificate →
    /// 127.0.0.1:port).
    pub resolve: Vec<(String, SocketAddr)>,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl HttpConfig {
    /// JSON binding, `X-Admin-Protocol` of `svn`, no trust root yet, 30 s timeout.
    pub fn new(svn: Svn) -> HttpConfig {
        HttpConfig {
            binding: Binding::Json,
            admin_protocol: svn,
            user_agent: USER_AGENT.into(),
            trust_roots: vec![],
            resolve: vec![],
            timeout: Duration::from_secs(30),
        }
    }

    /// Adds the certificates of a PEM file's contents (or one DER certificate) as trust roots.
    pub fn with_trust(mut self, pem_or_der: &[u8]) -> Result<HttpConfig, HttpSetupError> {
        self.trust_roots.extend(parse_certificates(pem_or_der)?);
        Ok(self)
    }

    /// Sends `host` to `addr` instead of resolving it.
    pub fn with_resolve(mut self, host: impl Into<String>, addr: SocketAddr) -> HttpConfig {
        self.resolve.push((host.into(), addr));
        self
    }

    /// Uses `binding`.
    pub fn with_binding(mut self, binding: Binding) -> HttpConfig {
        self.binding = binding;
        self
    }
}

/// Certificates from PEM text (any number of `CERTIFICATE` blocks) or one DER certificate.
pub fn parse_certificates(
    pem_or_der: &[u8],
) -> Result<Vec<CertificateDer<'static>>, HttpSetupError> {
    if pem_or_der.first() == Some(&0x30) {
        return Ok(vec![CertificateDer::from(pem_or_der.to_vec())]);
    }
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(pem_or_der)
        .collect::<Result<_, _>>()
        .map_err(|e| HttpSetupError::TrustRoot(e.to_string()))?;
    if certs.is_empty() {
        return Err(HttpSetupError::TrustRoot("no CERTIFICATE block".into()));
    }
    Ok(certs)
}

/// ES9+ over HTTPS.
pub struct HttpEs9Client {
    http: reqwest::Client,
    config: HttpConfig,
    log: WireLog,
    last_admin_protocol: Option<Svn>,
    /// Path prefix of the JSON binding ([`JSON_PATH`] for ES9+, [`ES11_JSON_PATH`] for ES11).
    json_path: &'static str,
}

/// Path prefix of ES11 in the JSON binding.
pub const ES11_JSON_PATH: &str = "/gsma/rsp2/es11/";

impl HttpEs9Client {
    /// A client with `config`, logging to a new [`WireLog`].
    pub fn new(config: HttpConfig) -> Result<HttpEs9Client, HttpSetupError> {
        if config.trust_roots.is_empty() {
            return Err(HttpSetupError::NoTrustRoot);
        }
        let mut roots = rustls::RootCertStore::empty();
        for c in &config.trust_roots {
            roots
                .add(c.clone())
                .map_err(|e| HttpSetupError::TrustRoot(e.to_string()))?;
        }
        let tls = rustls::ClientConfig::builder()
            .with_root_certificates(Arc::new(roots))
            .with_no_client_auth();
        let mut builder = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(config.timeout)
            .user_agent(config.user_agent.clone());
        for (host, addr) in &config.resolve {
            builder = builder.resolve(host, *addr);
        }
        let http = builder
            .build()
            .map_err(|e| HttpSetupError::Client(e.to_string()))?;
        Ok(HttpEs9Client {
            http,
            config,
            log: WireLog::default(),
            last_admin_protocol: None,
            json_path: JSON_PATH,
        })
    }

    /// Logs to `log` (share one log between clients or keep a handle).
    pub fn with_log(mut self, log: WireLog) -> HttpEs9Client {
        self.log = log;
        self
    }

    /// A handle on the wire log.
    pub fn log(&self) -> WireLog {
        self.log.clone()
    }

    /// The configuration.
    pub fn config(&self) -> &HttpConfig {
        &self.config
    }

    fn url(&self, address: &str, function: Es9Function) -> String {
        match self.config.binding {
            Binding::Json => format!(
                "https://{address}{}{}",
                self.json_path,
                function.json_path()
            ),
            Binding::Asn1 => format!("https://{address}{ASN1_PATH}"),
        }
    }

    /// One POST, logged. Returns (status, body).
    async fn post(
        &mut self,
        function: Es9Function,
        address: &str,
        body: Vec<u8>,
        request_der: Vec<DerField>,
    ) -> Result<(u16, Vec<u8>, usize), Es9Error> {
        let url = self.url(address, function);
        let content_type = match self.config.binding {
            Binding::Json => json::CONTENT_TYPE,
            Binding::Asn1 => ASN1_CONTENT_TYPE,
        };
        let admin = self.config.admin_protocol.admin_protocol();
        let request_headers = vec![
            ("content-type".to_string(), content_type.to_string()),
            ("accept".to_string(), content_type.to_string()),
            ("x-admin-protocol".to_string(), admin.clone()),
            ("user-agent".to_string(), self.config.user_agent.clone()),
        ];
        let mut entry = WireExchange {
            function,
            binding: self.config.binding,
            url: url.clone(),
            request_headers,
            request_body: body.clone(),
            request_der,
            status: None,
            response_headers: vec![],
            response_body: vec![],
            response_der: vec![],
            error: None,
        };
        let sent = self
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .header(reqwest::header::ACCEPT, content_type)
            .header(json::ADMIN_PROTOCOL_HEADER, admin)
            .body(body)
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => {
                let message = error_chain(&e);
                entry.error = Some(message.clone());
                self.log.record(entry);
                return Err(Es9Error::Transport { function, message });
            }
        };
        let status = response.status().as_u16();
        entry.status = Some(status);
        entry.response_headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        self.last_admin_protocol = response
            .headers()
            .get(json::ADMIN_PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| json::parse_admin_protocol(v).ok());
        let body = match response.bytes().await {
            Ok(b) => b.to_vec(),
            Err(e) => {
                let message = error_chain(&e);
                entry.error = Some(message.clone());
                self.log.record(entry);
                return Err(Es9Error::Transport { function, message });
            }
        };
        entry.response_body = body.clone();
        entry.response_der = response_der_fields(self.config.binding, &body);
        let index = self.log.exchanges().len();
        self.log.record(entry);
        Ok((status, body, index))
    }

    async fn json_call<Req: serde::Serialize, Ok: serde::de::DeserializeOwned>(
        &mut self,
        function: Es9Function,
        address: &str,
        request: &Req,
    ) -> Result<Option<Ok>, Es9Error> {
        let body = serde_json::to_vec(request).map_err(|e| Es9Error::Encode {
            function,
            message: e.to_string(),
        })?;
        let der = json_der_fields(&body);
        let (status, body, _) = self.post(function, address, body, der).await?;
        if function == Es9Function::HandleNotification && status == 204 {
            return Ok(None);
        }
        if status != 200 {
            return Err(http_error(function, status, &body));
        }
        if function == Es9Function::HandleNotification && body.is_empty() {
            return Ok(None);
        }
        let response: json::Response<Ok> =
            serde_json::from_slice(&body).map_err(|e| Es9Error::Protocol {
                function,
                message: format!("response is not the expected JSON: {e}"),
            })?;
        let status = response.header.function_execution_status;
        if !status.is_executed() {
            return Err(match status.status_code_data {
                Some(s) => Es9Error::Failed {
                    function,
                    status: Box::new(s),
                },
                None => Es9Error::Protocol {
                    function,
                    message: format!("status {:?} without statusCodeData", status.status),
                },
            });
        }
        Ok(response.body)
    }

    async fn asn1_call(
        &mut self,
        function: Es9Function,
        address: &str,
        request: &RemoteProfileProvisioningRequest,
        peer: &Profile,
    ) -> Result<Option<RemoteProfileProvisioningResponse>, Es9Error> {
        let body = request.encode(peer).map_err(|e| Es9Error::Encode {
            function,
            message: e.to_string(),
        })?;
        let der = vec![DerField {
            name: "body".into(),
            der: body.clone(),
        }];
        let (status, body, _) = self.post(function, address, body, der).await?;
        if status == 204 && function == Es9Function::HandleNotification {
            return Ok(None);
        }
        if status != 200 {
            return Err(http_error(function, status, &body));
        }
        RemoteProfileProvisioningResponse::decode(&body)
            .map(Some)
            .map_err(|e| Es9Error::Protocol {
                function,
                message: format!("undecodable RemoteProfileProvisioningResponse: {e}"),
            })
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        source = inner.source();
    }
    s
}

fn http_error(function: Es9Function, status: u16, body: &[u8]) -> Es9Error {
    Es9Error::Http {
        function,
        status,
        body: String::from_utf8_lossy(body).chars().take(200).collect(),
    }
}

/// The base64 fields of a JSON body, decoded.
fn json_der_fields(body: &[u8]) -> Vec<DerField> {
    let Ok(serde_json::Value::Object(map)) = serde_json::from_slice::<serde_json::Value>(body)
    else {
        return vec![];
    };
    let mut out = Vec::new();
    for (name, value) in map {
        match value {
            serde_json::Value::String(s) if name != "transactionId" && name != "smdpAddress" => {
                if let Ok(der) = json::b64::decode(&s) {
                    out.push(DerField { name, der });
                }
            }
            serde_json::Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(der) = item.as_str().and_then(|s| json::b64::decode(s).ok()) {
                        out.push(DerField {
                            name: format!("{name}[{i}]"),
                            der,
                        });
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn response_der_fields(binding: Binding, body: &[u8]) -> Vec<DerField> {
    match binding {
        Binding::Json => json_der_fields(body),
        Binding::Asn1 if body.is_empty() => vec![],
        Binding::Asn1 => vec![DerField {
            name: "body".into(),
            der: body.to_vec(),
        }],
    }
}

fn protocol(function: Es9Function, what: &str, e: impl std::fmt::Display) -> Es9Error {
    Es9Error::Protocol {
        function,
        message: format!("{what}: {e}"),
    }
}

fn encode_err(function: Es9Function, e: impl std::fmt::Display) -> Es9Error {
    Es9Error::Encode {
        function,
        message: e.to_string(),
    }
}

/// The value of a TLV with `tag` (e.g. the 64 signature bytes of `5F37 40 …`).
fn tlv_value(
    function: Es9Function,
    field: &str,
    tag: u32,
    bytes: &[u8],
) -> Result<Vec<u8>, Es9Error> {
    let t = tlv::parse_single(bytes).map_err(|e| protocol(function, field, e))?;
    if t.tag.value() != tag {
        return Err(protocol(
            function,
            field,
            format!("expected tag {tag:X}, got {:X}", t.tag.value()),
        ));
    }
    Ok(t.value.to_vec())
}

fn tlv_bytes(function: Es9Function, tag: u32, value: &[u8]) -> Result<Vec<u8>, Es9Error> {
    let tag = tlv::Tag::from_u32(tag).map_err(|e| encode_err(function, e))?;
    tlv::encode_tlv_to_vec(tag, value).map_err(|e| encode_err(function, e))
}

#[async_trait]
impl Es9Client for HttpEs9Client {
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error> {
        let f = Es9Function::InitiateAuthentication;
        if self.config.binding == Binding::Asn1 {
            let r = self
                .asn1_call(
                    f,
                    address,
                    &RemoteProfileProvisioningRequest::InitiateAuthentication(request.clone()),
                    peer,
                )
                .await?;
            return match r {
                Some(RemoteProfileProvisioningResponse::InitiateAuthentication(
                    InitiateAuthenticationResponse::Ok(ok),
                )) => Ok(ok),
                Some(RemoteProfileProvisioningResponse::InitiateAuthentication(
                    InitiateAuthenticationResponse::Error(code),
                )) => Err(Es9Error::Code { function: f, code }),
                _ => Err(protocol(
                    f,
                    "response",
                    "not an InitiateAuthenticationResponse",
                )),
            };
        }
        // The one gated encoding decides which fields exist for this receiver.
        let der = request.encode(peer).map_err(|e| encode_err(f, e))?;
        let gated = InitiateAuthenticationRequest::decode(&der).map_err(|e| encode_err(f, e))?;
        let euicc_info1 = gated
            .euicc_info1
            .encode(peer)
            .map_err(|e| encode_err(f, e))?;
        let lpa_rsp_capability = match &gated.lpa_rsp_capability {
            Some(cap) => {
                let mut content = Vec::new();
                cap.encode_value(peer, &mut content)
                    .map_err(|e| encode_err(f, e))?;
                Some(tlv_bytes(f, 0x03, &content)?)
            }
            None => None,
        };
        let body = json::InitiateAuthenticationRequest {
            euicc_challenge: gated.euicc_challenge.0.to_vec(),
            euicc_info1,
            smdp_address: gated.smdp_address,
            lpa_rsp_capability,
        };
        let ok: json::InitiateAuthenticationOk = self
            .json_call(f, address, &body)
            .await?
            .ok_or_else(|| protocol(f, "response", "no output fields"))?;
        Ok(InitiateAuthenticationOk {
            transaction_id: ok.transaction_id,
            server_signed1: Signed::decode(&ok.server_signed1, ServerSigned1::decode)
                .map_err(|e| protocol(f, "serverSigned1", e))?,
            server_signature1: tlv_value(f, "serverSignature1", 0x5F37, &ok.server_signature1)?,
            euicc_ci_pk_id_to_be_used: tlv_value(
                f,
                "euiccCiPKIdToBeUsed",
                0x04,
                &ok.euicc_ci_pk_id_to_be_used,
            )?,
            server_certificate: Certificate(ok.server_certificate),
            other_certs_in_chain: ok
                .other_certs_in_chain
                .map(|v| SeqOf(v.into_iter().map(Certificate).collect())),
            crl_list: ok.crl_list.map(|v| RawContent(v.concat())),
            unknown_tags: vec![],
        })
    }

    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<AuthenticateClientOk, Es9Error> {
        let f = Es9Function::AuthenticateClient;
        if self.config.binding == Binding::Asn1 {
            let r = self
                .asn1_call(
                    f,
                    address,
                    &RemoteProfileProvisioningRequest::AuthenticateClient(request.clone()),
                    peer,
                )
                .await?;
            return match r {
                Some(RemoteProfileProvisioningResponse::AuthenticateClient(
                    AuthenticateClientResponseEs9::Ok(ok),
                )) => Ok(ok),
                Some(RemoteProfileProvisioningResponse::AuthenticateClient(
                    AuthenticateClientResponseEs9::Error(code),
                )) => Err(Es9Error::Code { function: f, code }),
                Some(RemoteProfileProvisioningResponse::AuthenticateClient(other)) => Err(
                    protocol(f, "response", format!("unexpected {}", other.alternative())),
                ),
                _ => Err(protocol(
                    f,
                    "response",
                    "not an AuthenticateClientResponseEs9",
                )),
            };
        }
        let body = json::AuthenticateClientRequest {
            transaction_id: request.transaction_id.clone(),
            authenticate_server_response: request
                .authenticate_server_response
                .encode(peer)
                .map_err(|e| encode_err(f, e))?,
            delete_notification_for_dc: None,
        };
        let ok: json::AuthenticateClientOk = self
            .json_call(f, address, &body)
            .await?
            .ok_or_else(|| protocol(f, "response", "no output fields"))?;
        Ok(AuthenticateClientOk {
            transaction_id: ok.transaction_id,
            profile_metadata: StoreMetadataRequest::decode(&ok.profile_metadata)
                .map_err(|e| protocol(f, "profileMetadata", e))?,
            smdp_signed2: Signed::decode(&ok.smdp_signed2, SmdpSigned2::decode)
                .map_err(|e| protocol(f, "smdpSigned2", e))?,
            smdp_signature2: tlv_value(f, "smdpSignature2", 0x5F37, &ok.smdp_signature2)?,
            smdp_certificate: Certificate(ok.smdp_certificate),
            unknown_tags: vec![],
        })
    }

    async fn get_bound_profile_package(
        &mut self,
        address: &str,
        request: &GetBoundProfilePackageRequest,
        peer: &Profile,
    ) -> Result<GetBoundProfilePackageOk, Es9Error> {
        let f = Es9Function::GetBoundProfilePackage;
        if self.config.binding == Binding::Asn1 {
            let r = self
                .asn1_call(
                    f,
                    address,
                    &RemoteProfileProvisioningRequest::GetBoundProfilePackage(request.clone()),
                    peer,
                )
                .await?;
            return match r {
                Some(RemoteProfileProvisioningResponse::GetBoundProfilePackage(
                    GetBoundProfilePackageResponse::Ok(ok),
                )) => Ok(ok),
                Some(RemoteProfileProvisioningResponse::GetBoundProfilePackage(
                    GetBoundProfilePackageResponse::Error(code),
                )) => Err(Es9Error::Code { function: f, code }),
                _ => Err(protocol(
                    f,
                    "response",
                    "not a GetBoundProfilePackageResponse",
                )),
            };
        }
        let body = json::GetBoundProfilePackageRequest {
            transaction_id: request.transaction_id.clone(),
            prepare_download_response: request
                .prepare_download_response
                .encode(peer)
                .map_err(|e| encode_err(f, e))?,
        };
        let ok: json::GetBoundProfilePackageOk = self
            .json_call(f, address, &body)
            .await?
            .ok_or_else(|| protocol(f, "response", "no output fields"))?;
        let bpp = ok.bound_profile_package;
        if !bpp.starts_with(&[0xBF, 0x36]) {
            return Err(protocol(f, "boundProfilePackage", "not a BF36 element"));
        }
        Ok(GetBoundProfilePackageOk {
            transaction_id: ok.transaction_id,
            bound_profile_package: RawTlv(bpp),
            unknown_tags: vec![],
        })
    }

    async fn handle_notification(
        &mut self,
        address: &str,
        notification: &PendingNotification,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        let f = Es9Function::HandleNotification;
        if self.config.binding == Binding::Asn1 {
            let request =
                RemoteProfileProvisioningRequest::HandleNotification(HandleNotification {
                    pending_notification: notification.clone(),
                    unknown_tags: vec![],
                });
            return self.asn1_call(f, address, &request, peer).await.map(|_| ());
        }
        let body = json::HandleNotificationRequest {
            pending_notification: notification.encode(peer).map_err(|e| encode_err(f, e))?,
        };
        self.json_call::<_, json::Empty>(f, address, &body)
            .await
            .map(|_| ())
    }

    async fn cancel_session(
        &mut self,
        address: &str,
        request: &CancelSessionRequestEs9,
        peer: &Profile,
    ) -> Result<(), Es9Error> {
        let f = Es9Function::CancelSession;
        if self.config.binding == Binding::Asn1 {
            let r = self
                .asn1_call(
                    f,
                    address,
                    &RemoteProfileProvisioningRequest::CancelSession(request.clone()),
                    peer,
                )
                .await?;
            return match r {
                Some(RemoteProfileProvisioningResponse::CancelSession(
                    CancelSessionResponseEs9::Ok(_),
                )) => Ok(()),
                Some(RemoteProfileProvisioningResponse::CancelSession(
                    CancelSessionResponseEs9::Error(code),
                )) => Err(Es9Error::Code { function: f, code }),
                _ => Err(protocol(f, "response", "not a CancelSessionResponseEs9")),
            };
        }
        let body = json::CancelSessionRequest {
            transaction_id: request.transaction_id.clone(),
            cancel_session_response: request
                .cancel_session_response
                .encode(peer)
                .map_err(|e| encode_err(f, e))?,
        };
        self.json_call::<_, json::CancelSessionOk>(f, address, &body)
            .await
            .map(|_| ())
    }

    fn last_admin_protocol(&self) -> Option<Svn> {
        self.last_admin_protocol
    }
}

/// ES11 (LPA → SM-DS) over HTTPS, JSON binding (`POST /gsma/rsp2/es11/{initiateAuthentication,
/// authenticateClient}`): the same TLS, resolve, header and wire-log handling as
/// [`HttpEs9Client`] (server-authenticated TLS; the trust roots are the CI / TLS CA that
/// CERT.DS.TLS chains to). The wire log records the two calls under the ES9+ function names of
/// the same name.
pub struct HttpEs11Client {
    inner: HttpEs9Client,
}

impl HttpEs11Client {
    /// A client with `config` (its binding must be JSON: sgp22.md defines ES11 in JSON only).
    pub fn new(config: HttpConfig) -> Result<HttpEs11Client, HttpSetupError> {
        if config.binding != Binding::Json {
            return Err(HttpSetupError::Client(
                "ES11 is served in the JSON binding only".into(),
            ));
        }
        let mut inner = HttpEs9Client::new(config)?;
        inner.json_path = ES11_JSON_PATH;
        Ok(HttpEs11Client { inner })
    }

    /// Logs to `log`.
    pub fn with_log(self, log: WireLog) -> HttpEs11Client {
        HttpEs11Client {
            inner: self.inner.with_log(log),
        }
    }

    /// A handle on the wire log.
    pub fn log(&self) -> WireLog {
        self.inner.log()
    }
}

#[async_trait]
impl crate::es11::Es11Client for HttpEs11Client {
    async fn initiate_authentication(
        &mut self,
        address: &str,
        request: &InitiateAuthenticationRequest,
        peer: &Profile,
    ) -> Result<InitiateAuthenticationOk, Es9Error> {
        // The ES9+ body with `smdsAddress` for `smdpAddress` (the SM-DS accepts either).
        Es9Client::initiate_authentication(&mut self.inner, address, request, peer).await
    }

    async fn authenticate_client(
        &mut self,
        address: &str,
        request: &AuthenticateClientRequest,
        peer: &Profile,
    ) -> Result<rsp_sgp22::AuthenticateClientOkEs11, Es9Error> {
        let f = Es9Function::AuthenticateClient;
        let body = json::AuthenticateClientRequest {
            transaction_id: request.transaction_id.clone(),
            authenticate_server_response: request
                .authenticate_server_response
                .encode(peer)
                .map_err(|e| encode_err(f, e))?,
            delete_notification_for_dc: None,
        };
        let ok: rsp_sgp22::json_smds::Es11AuthenticateClientOk = self
            .inner
            .json_call(f, address, &body)
            .await?
            .ok_or_else(|| protocol(f, "response", "no output fields"))?;
        let smds_signed2 = match &ok.smds_signed2 {
            Some(der) => Some(rsp_sgp22::SignedSmds2(
                Signed::decode(der, rsp_sgp22::SmdsSigned2::decode)
                    .map_err(|e| protocol(f, "smdsSigned2", e))?,
            )),
            None => None,
        };
        let smds_signature2 = match &ok.smds_signature2 {
            Some(tlv) => Some(tlv_value(f, "smdsSignature2", 0x5F37, tlv)?),
            None => None,
        };
        Ok(rsp_sgp22::AuthenticateClientOkEs11 {
            transaction_id: ok.transaction_id,
            event_entries: ok.event_entries.map(|l| {
                SeqOf(
                    l.into_iter()
                        .map(|e| rsp_sgp22::EventEntries {
                            event_id: e.event_id,
                            rsp_server_address: e.rsp_server_address,
                            unknown_tags: vec![],
                        })
                        .collect(),
                )
            }),
            smds_signed2,
            smds_signature2,
            unknown_tags: vec![],
        })
    }

    fn last_admin_protocol(&self) -> Option<Svn> {
        self.inner.last_admin_protocol
    }
}
