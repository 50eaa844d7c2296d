//! One SM-DP+ of the matrix, started the way `rsp serve` starts one: the production HTTPS
//! listener of [`rsp_smdpp::server`] (ES9+ both bindings and ES2+ on one rustls port) on
//! 127.0.0.1, CERT.DPauth/CERT.DPpb from SGP.26 on the chosen curve, a CERT.DP.TLS minted from
//! the SGP.26 NIST CI key (TLS stays P-256), its own SQLite store and an inventory holding the
//! TS.48 profile in the package versions this server knows. Orders are placed over ES2+
//! (DownloadOrder + ConfirmOrder with releaseFlag) by an Operator whose TLS client certificate
//! is minted under the same CI.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use rsp_euicc::consumer::ConsumerEuicc;
use rsp_lpa::harness::Fixtures;
use rsp_lpa::{ApduTransport, Binding, HttpConfig, HttpEs9Client, Lpa, LpaConfig, WireLog};
use rsp_sgp22::ServerRspCapability;
use rsp_sgp22::json::{
    self, ConfirmOrderOk, ConfirmOrderRequest, DownloadOrderOk, DownloadOrderRequest,
    RequestHeader, Response,
};
use rsp_smdpp::es2plus::{Es2Plus, OperatorDirectory, OperatorEntry};
use rsp_smdpp::es9plus::{Es9Config, Es9Service};
use rsp_smdpp::identity::{CurvePaths, SmdpIdentity, TlsIdentity};
use rsp_smdpp::inventory::{IccidRange, Inventory, ProfileMetadata, ProfileTypeConfig, upp_iccid};
use rsp_smdpp::order::{Orders, StoredOrder};
use rsp_smdpp::server::{self, RunningServer, ServerParts};
use rsp_types::{ExecutionStatus, Iccid, Oid, Svn};
use sha2::Digest;
use time::OffsetDateTime;

/// Errors of the scenario wiring (boxed: this is test and demo infrastructure).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// The SM-DP+ address (FQDN of its TLS certificate and of ServerSigned1).
pub const SMDP_ADDRESS: &str = rsp_lpa::harness::SMDP_ADDRESS;
/// The Operator placing the orders (its TLS certificate's commonName).
pub const OPERATOR: &str = rsp_lpa::harness::OPERATOR;
/// The Operator's SGP.22 version, stated in its ES2+ `X-Admin-Protocol`.
pub const OPERATOR_SVN: Svn = Svn::new(3, 1, 0);
/// The ES2+ profile type of the inventory.
pub const PROFILE_TYPE: &str = rsp_lpa::harness::PROFILE_TYPE;
/// The push service a v3 server offers in `sessionContext.supportedPushServices` (an OID under
/// the `2.999` example arc: no real push service is involved).
pub const PUSH_SERVICE_OID: &str = "2.999.1.1";
/// The SM-DP+ OID in the minted CERT.DP.TLS.
const SMDP_OID: &str = "2.999.10";

/// The curve of CERT.DPauth / CERT.DPpb (the eUICC picks the matching credential).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum SigningCurve {
    /// NIST P-256.
    Nist,
    /// brainpoolP256r1.
    Brainpool,
}

impl SigningCurve {
    /// The SGP.26 file name variant.
    pub fn sgp26_variant(self) -> &'static str {
        match self {
            SigningCurve::Nist => "NIST",
            SigningCurve::Brainpool => "BRP",
        }
    }
}

/// How one SM-DP+ is configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSetup {
    /// Its SGP.22 version.
    pub svn: Svn,
    /// The profile package versions its inventory holds the profile in.
    pub package_versions: Vec<Svn>,
    /// The curve of its DPauth/DPpb credentials.
    pub curve: SigningCurve,
}

impl ServerSetup {
    /// The ES9+ settings: a v3 server announces Push Service (`serverRspCapability` bit
    /// pushServiceV3Support and one supported push service), so that a v3 peer has a feature
    /// to negotiate and a v2 peer has v3 elements it must not receive.
    pub fn es9_config(&self) -> Result<Es9Config, BoxError> {
        let mut cfg = Es9Config::new(self.svn);
        if cfg.is_v3() {
            cfg.server_rsp_capability =
                ServerRspCapability::with_bits(&[ServerRspCapability::PUSH_SERVICE_V3_SUPPORT]);
            cfg.supported_push_services = vec![PUSH_SERVICE_OID.parse::<Oid>()?];
        }
        Ok(cfg)
    }
}

/// One ES2+ call as it went over the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Es2Exchange {
    /// `downloadOrder` or `confirmOrder`.
    pub function: &'static str,
    /// The Operator's `X-Admin-Protocol`.
    pub request_admin_protocol: Svn,
    /// The SM-DP+'s `X-Admin-Protocol`, if readable.
    pub response_admin_protocol: Option<Svn>,
    /// `functionExecutionStatus.status`.
    pub status: ExecutionStatus,
}

/// A running SM-DP+ and an Operator client for its ES2+.
pub struct Smdp {
    /// Where it listens.
    pub socket: SocketAddr,
    /// The CI certificate (PEM) its TLS certificate chains to: the LPA's only trust root.
    pub ci_pem: String,
    /// CERT.DPauth (DER) it signs serverSigned1 with.
    pub dp_auth_der: Vec<u8>,
    /// Its orders.
    pub orders: Orders,
    /// Its inventory.
    pub inventory: Arc<Inventory>,
    operator: reqwest::Client,
    running: Option<RunningServer>,
    es12: Option<rsp_smdpp::es12::Es12Worker>,
}

impl std::fmt::Debug for Smdp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smdp")
            .field("socket", &self.socket)
            .finish_non_exhaustive()
    }
}

fn read(fx: &Fixtures, name: &str) -> Result<Vec<u8>, BoxError> {
    let path = fx.sgp26.join(name);
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()).into())
}

/// The inventory: the fixture UPP as profile type [`PROFILE_TYPE`], ten ICCIDs, in `versions`.
pub fn inventory(fx: &Fixtures, versions: &[Svn]) -> Result<Inventory, BoxError> {
    let template = std::fs::read(&fx.profile)?;
    let first = upp_iccid(&template)?;
    Ok(Inventory::new(vec![ProfileTypeConfig {
        name: PROFILE_TYPE.into(),
        template,
        iccids: IccidRange { first, count: 10 },
        package_versions: versions.to_vec(),
        operators: None,
        metadata: ProfileMetadata {
            service_provider_name: "rsp interop".into(),
            profile_name: "TS.48 test profile".into(),
            profile_class: Some(2),
            ppr_ids: vec![],
            notifications: vec![],
        },
    }])?)
}

impl Smdp {
    /// Starts an SM-DP+ with `setup`, its store under `dir`.
    pub async fn start(fx: &Fixtures, setup: &ServerSetup, dir: &Path) -> Result<Smdp, BoxError> {
        Smdp::start_with(fx, setup, dir, false).await
    }

    /// Starts an SM-DP+ that registers SM-DS events (ES12, mutual TLS with its CERT.DP.TLS,
    /// trusting the SGP.26 CI for the SM-DS); [`Smdp::deliver_events`] runs its ES12 worker.
    pub async fn start_with_smds(
        fx: &Fixtures,
        setup: &ServerSetup,
        dir: &Path,
    ) -> Result<Smdp, BoxError> {
        Smdp::start_with(fx, setup, dir, true).await
    }

    async fn start_with(
        fx: &Fixtures,
        setup: &ServerSetup,
        dir: &Path,
        smds: bool,
    ) -> Result<Smdp, BoxError> {
        let now = OffsetDateTime::now_utc();
        let v = setup.curve.sgp26_variant();
        let d = &fx.sgp26;
        let curve = CurvePaths {
            ci_cert: d.join(format!("CertificateIssuer/CERT_CI_ECDSA_{v}.der")),
            dp_auth_cert: d.join(format!("DPauth/CERT_S_SM_DPauth_ECDSA_{v}.der")),
            dp_auth_key: d.join(format!("DPauth/SK_S_SM_DPauth_ECDSA_{v}.pem")),
            dp_pb_cert: d.join(format!("DPpb/CERT_S_SM_DPpb_ECDSA_{v}.der")),
            dp_pb_key: d.join(format!("DPpb/SK_S_SM_DPpb_ECDSA_{v}.pem")),
        };
        let dp_auth_der = std::fs::read(&curve.dp_auth_cert)?;
        let curve = curve.load(now)?;
        // TLS: P-256 under the SGP.26 NIST CI, whatever the signing curve.
        let ci = rsp_crypto::x509::Certificate::from_der_or_pem(&read(
            fx,
            "CertificateIssuer/CERT_CI_ECDSA_NIST.der",
        )?)?;
        let ci_key = rsp_crypto::ecc::PrivateKey::from_pem(&String::from_utf8(read(
            fx,
            "CertificateIssuer/SK_CI_ECDSA_NIST.pem",
        )?)?)?;
        let tls = TlsIdentity::mint(
            &ci,
            &ci_key,
            SMDP_ADDRESS,
            Some(&SMDP_OID.parse::<Oid>()?),
            now,
            1,
        )?;
        let identity = Arc::new(SmdpIdentity::new(SMDP_ADDRESS, vec![curve], tls)?);

        // The Operator: a TLS client certificate under the same CI, known by fingerprint.
        let op = TlsIdentity::mint(&ci, &ci_key, OPERATOR, None, now, 1)?;
        let op_leaf = op.chain.first().ok_or("minted Operator chain is empty")?;
        let fingerprint: [u8; 32] = sha2::Sha256::digest(op_leaf.der()).into();
        let directory = Arc::new(OperatorDirectory::new(vec![OperatorEntry {
            id: OPERATOR.into(),
            certificate_sha256: vec![fingerprint],
            subject_common_names: vec![],
            callback_url: None,
        }]));

        let inventory = Arc::new(inventory(fx, &setup.package_versions)?);
        let store = rsp_store::open(&format!(
            "sqlite://{}",
            dir.join(format!("smdp-{}.sqlite", setup.svn)).display()
        ))
        .await?;
        let mut es9 = Es9Service::new(
            setup.es9_config()?,
            identity.clone(),
            inventory.clone(),
            store.clone(),
        );
        let mut es2 = Es2Plus::new(store.clone(), inventory.clone(), directory, SMDP_ADDRESS);
        es2.admin_protocol.ours = setup.svn;
        let mut es12 = None;
        if smds {
            let registrar = Arc::new(rsp_smdpp::es12::EventRegistrar::new(SMDP_OID, SMDP_ADDRESS));
            es9 = es9.with_smds_events(registrar.clone());
            es2 = es2.with_smds_events(registrar);
            let tls = rsp_smdpp::es12::tls_client_config(
                identity
                    .tls
                    .chain
                    .iter()
                    .map(|c| c.der().to_vec())
                    .collect(),
                identity.tls.key().to_pkcs8_der().to_vec(),
                &[ci.der().to_vec()],
            )?;
            es12 = Some(rsp_smdpp::es12::Es12Worker::new(
                store.clone(),
                rsp_smdpp::es12::http_client(tls)?,
                setup.svn,
                "interop-smdp",
            ));
        }
        let tls = server::tls_config(&identity, &[ci.der().to_vec()])?;
        let running = server::serve(ServerParts {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            es9,
            es2: Some(es2),
            delivery: None,
            delivery_period: std::time::Duration::from_secs(1),
            tls,
        })
        .await?;
        let socket = running.local_addr;
        let operator = operator_client(&ci, &op, socket)?;
        Ok(Smdp {
            socket,
            ci_pem: ci.to_pem(),
            dp_auth_der,
            orders: Orders::new(store),
            inventory,
            operator,
            running: Some(running),
            es12,
        })
    }

    /// One round of the ES12 worker (registrations first); the number of calls acknowledged.
    pub async fn deliver_events(&self) -> Result<usize, BoxError> {
        let worker = self.es12.as_ref().ok_or("this SM-DP+ has no SM-DS link")?;
        let report = worker.run_once(OffsetDateTime::now_utc()).await?;
        Ok(report.delivered)
    }

    async fn es2<Req: serde::Serialize, Ok: serde::de::DeserializeOwned>(
        &self,
        function: &'static str,
        body: &Req,
    ) -> Result<(Es2Exchange, Option<Ok>), BoxError> {
        let url = format!(
            "https://{SMDP_ADDRESS}:{}/gsma/rsp2/es2plus/{function}",
            self.socket.port()
        );
        let r = self
            .operator
            .post(url)
            .header("Content-Type", json::CONTENT_TYPE)
            .header(
                json::ADMIN_PROTOCOL_HEADER,
                json::format_admin_protocol(OPERATOR_SVN),
            )
            .body(serde_json::to_vec(body)?)
            .send()
            .await?;
        let response_admin_protocol = r
            .headers()
            .get(json::ADMIN_PROTOCOL_HEADER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| json::parse_admin_protocol(v).ok());
        let http = r.status();
        let bytes = r.bytes().await?;
        let parsed: Response<Ok> = serde_json::from_slice(&bytes)
            .map_err(|e| format!("ES2+ {function}: HTTP {http}, {e}"))?;
        Ok((
            Es2Exchange {
                function,
                request_admin_protocol: OPERATOR_SVN,
                response_admin_protocol,
                status: parsed.header.function_execution_status.status,
            },
            parsed.body,
        ))
    }

    /// ES2+ DownloadOrder (profile type [`PROFILE_TYPE`]) and ConfirmOrder (`matching_id`,
    /// releaseFlag true) over HTTPS; the ICCID and both exchanges.
    pub async fn order(&self, matching_id: &str) -> Result<(Iccid, Vec<Es2Exchange>), BoxError> {
        self.order_for(matching_id, None, None).await
    }

    /// As [`Smdp::order`], bound to `eid` and with the event to register at `smds_address`.
    pub async fn order_for(
        &self,
        matching_id: &str,
        eid: Option<&str>,
        smds_address: Option<&str>,
    ) -> Result<(Iccid, Vec<Es2Exchange>), BoxError> {
        let header = |id: &str| {
            Some(RequestHeader {
                function_requester_identifier: OPERATOR.into(),
                function_call_identifier: id.into(),
            })
        };
        let (download, ok) = self
            .es2::<_, DownloadOrderOk>(
                "downloadOrder",
                &DownloadOrderRequest {
                    header: header("interop-1"),
                    profile_type: Some(PROFILE_TYPE.into()),
                    ..Default::default()
                },
            )
            .await?;
        let iccid = ok
            .ok_or_else(|| format!("DownloadOrder: {:?}", download.status))?
            .iccid;
        let (confirm, ok) = self
            .es2::<_, ConfirmOrderOk>(
                "confirmOrder",
                &ConfirmOrderRequest {
                    header: header("interop-2"),
                    iccid: Some(iccid.clone()),
                    matching_id: Some(matching_id.into()),
                    eid: eid.map(str::to_owned),
                    smds_address: smds_address.map(str::to_owned),
                    release_flag: Some(true),
                    ..Default::default()
                },
            )
            .await?;
        let ok = ok.ok_or_else(|| format!("ConfirmOrder: {:?}", confirm.status))?;
        if ok.matching_id != matching_id {
            return Err(format!("ConfirmOrder answered matchingId {:?}", ok.matching_id).into());
        }
        Ok((iccid.parse::<Iccid>()?, vec![download, confirm]))
    }

    /// The order of `iccid` as stored now.
    pub async fn order_of(&self, iccid: &Iccid) -> Result<Option<StoredOrder>, BoxError> {
        Ok(self.orders.get(iccid).await?)
    }

    /// The UPP this SM-DP+ delivers for `iccid`.
    pub fn upp(&self, iccid: &Iccid) -> Result<Vec<u8>, BoxError> {
        Ok(self.inventory.personalised_upp(iccid)?)
    }

    /// An LPA with `config` driving `card` over `binding`, every ES9+ exchange written to `log`.
    pub fn lpa(
        &self,
        config: LpaConfig,
        card: ConsumerEuicc,
        binding: Binding,
        log: &WireLog,
    ) -> Result<Lpa<ApduTransport<ConsumerEuicc>, HttpEs9Client>, BoxError> {
        let http = HttpConfig::new(config.svn)
            .with_trust(self.ci_pem.as_bytes())?
            .with_resolve(SMDP_ADDRESS, self.socket)
            .with_binding(binding);
        let client = HttpEs9Client::new(http)?.with_log(log.clone());
        let isd_r = config.isd_r_aid;
        Ok(Lpa::new(config, ApduTransport::new(card, isd_r), client))
    }

    /// Stops the listener gracefully.
    pub async fn shutdown(mut self) -> Result<(), BoxError> {
        if let Some(r) = self.running.take() {
            r.shutdown().await?;
        }
        Ok(())
    }
}

/// A download request for `matching_id` at the matrix's SM-DP+.
pub fn request(matching_id: &str) -> rsp_lpa::DownloadRequest {
    rsp_lpa::DownloadRequest::new(SMDP_ADDRESS.to_string(), Some(matching_id.into()))
}

fn operator_client(
    ci: &rsp_crypto::x509::Certificate,
    op: &TlsIdentity,
    socket: SocketAddr,
) -> Result<reqwest::Client, BoxError> {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    let mut roots = rustls::RootCertStore::empty();
    roots.add(CertificateDer::from(ci.der().to_vec()))?;
    let chain: Vec<CertificateDer<'static>> = op
        .chain
        .iter()
        .map(|c| CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(op.key().to_pkcs8_der().to_vec()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)?;
    Ok(reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .resolve(SMDP_ADDRESS, socket)
        .timeout(std::time::Duration::from_secs(20))
        .build()?)
}
