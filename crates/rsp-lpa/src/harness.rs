//! End-to-end harness (feature `harness`): a real SM-DP+ ([`rsp_smdpp`]) serving ES9+ JSON over
//! TLS on 127.0.0.1 with a CERT.DP.TLS minted under the SGP.26 NIST CI, a real consumer eUICC
//! ([`rsp_euicc::consumer`]) with the SGP.26 test identity, released TS.48 orders, and an
//! [`Lpa`] wired to both. Every piece takes its SGP.22 version, so an interop matrix is a loop:
//!
//! ```text
//! let fx = Fixtures::at(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"));
//! let dir = tempfile::tempdir()?;
//! let smdp = start_smdp(&fx, Es9Config::new(server_svn), dir.path()).await?;
//! let order = smdp.order("MATCHING-1", None, None).await?;
//! let mut lpa = smdp.lpa(LpaConfig::new(lpa_svn), card(&fx, card_svn)?)?;
//! let outcome = lpa.download(&smdp.request("MATCHING-1")).await?;
//! // smdp.log() holds every ES9+ exchange; lpa.card().log() every ES10 exchange.
//! ```
//!
//! The fixture folder holds the SGP.26 package layout (`sgp26/{eUICC,EUM,CertificateIssuer,
//! DPauth,DPpb}`) and a TS.48 profile (`SAIP2.3_NoBERTLV.der`); tests copy it, never read
//! `/work/shared`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rsp_euicc::consumer::{ConsumerConfig, ConsumerEuicc};
use rsp_euicc::m2m::CardTime;
use rsp_smdpp::es9plus::{Es9Config, Es9Service};
use rsp_smdpp::identity::{CurvePaths, SmdpIdentity, TlsIdentity};
use rsp_smdpp::inventory::{
    AllocationRequest, IccidRange, Inventory, ProfileMetadata, ProfileTypeConfig, upp_iccid,
};
use rsp_smdpp::order::{ConfirmRequest, OrderLimits, Orders, StoredOrder, matching_id_claim};
use rsp_store::Store;
use rsp_types::{Eid, Iccid, Oid, Svn};
use time::OffsetDateTime;
use tokio::net::TcpListener;

use crate::card::ApduTransport;
use crate::config::LpaConfig;
use crate::download::{DownloadRequest, Lpa};
use crate::http::{HttpConfig, HttpEs9Client};
use crate::wire::{Binding, WireLog};

/// Errors of the harness (test infrastructure: boxed).
pub type HarnessError = Box<dyn std::error::Error + Send + Sync>;

/// The SM-DP+ address (FQDN of its TLS certificate and of ServerSigned1).
pub const SMDP_ADDRESS: &str = "testsmdpplus1.example.com";
/// The Operator that places the orders.
pub const OPERATOR: &str = "test.operator.com";
/// The profile type of the inventory.
pub const PROFILE_TYPE: &str = "TS48";

/// Where the harness finds its files.
#[derive(Debug, Clone)]
pub struct Fixtures {
    /// The SGP.26 package layout.
    pub sgp26: PathBuf,
    /// The TS.48 UPP the inventory personalises.
    pub profile: PathBuf,
}

impl Fixtures {
    /// `dir/sgp26` and `dir/SAIP2.3_NoBERTLV.der`.
    pub fn at(dir: impl AsRef<Path>) -> Fixtures {
        let dir = dir.as_ref();
        Fixtures {
            sgp26: dir.join("sgp26"),
            profile: dir.join("SAIP2.3_NoBERTLV.der"),
        }
    }

    fn curve(&self, variant: &str) -> CurvePaths {
        let d = &self.sgp26;
        CurvePaths {
            ci_cert: d.join(format!("CertificateIssuer/CERT_CI_ECDSA_{variant}.der")),
            dp_auth_cert: d.join(format!("DPauth/CERT_S_SM_DPauth_ECDSA_{variant}.der")),
            dp_auth_key: d.join(format!("DPauth/SK_S_SM_DPauth_ECDSA_{variant}.pem")),
            dp_pb_cert: d.join(format!("DPpb/CERT_S_SM_DPpb_ECDSA_{variant}.der")),
            dp_pb_key: d.join(format!("DPpb/SK_S_SM_DPpb_ECDSA_{variant}.pem")),
        }
    }
}

/// A running SM-DP+.
pub struct SmdpServer {
    /// Its address (FQDN).
    pub address: String,
    /// Where it listens.
    pub socket: SocketAddr,
    /// The CI certificate its TLS certificate chains to (PEM), the LPA's trust root.
    pub ci_pem: String,
    /// Its orders.
    pub orders: Orders,
    /// Its inventory.
    pub inventory: Arc<Inventory>,
    /// Its store.
    pub store: Arc<dyn Store>,
    log: WireLog,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for SmdpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct TlsListener {
    local: SocketAddr,
    tcp: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = tokio_rustls::server::TlsStream<tokio::net::TcpStream>;
    type Addr = SocketAddr;
    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }
    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

/// The inventory: one profile type of ten ICCIDs from the fixture UPP, in package versions
/// 2.3.0 and 3.1.0.
pub fn inventory(fixtures: &Fixtures) -> Result<Inventory, HarnessError> {
    let template = std::fs::read(&fixtures.profile)?;
    let first = upp_iccid(&template)?;
    Ok(Inventory::new(vec![ProfileTypeConfig {
        name: PROFILE_TYPE.into(),
        template,
        iccids: IccidRange { first, count: 10 },
        package_versions: vec![Svn::new(2, 3, 0), Svn::new(3, 1, 0)],
        operators: None,
        metadata: ProfileMetadata {
            service_provider_name: "rsp test".into(),
            profile_name: "TS.48 test profile".into(),
            profile_class: Some(2),
            ppr_ids: vec![],
            notifications: vec![],
        },
    }])?)
}

/// Starts an SM-DP+ with `config` (its version: `Es9Config::new(svn)`), its store in `dir`.
pub async fn start_smdp(
    fixtures: &Fixtures,
    config: Es9Config,
    dir: &Path,
) -> Result<SmdpServer, HarnessError> {
    let now = OffsetDateTime::now_utc();
    let curves = vec![fixtures.curve("NIST").load(now)?];
    let ci_paths = fixtures.curve("NIST");
    let ci = rsp_crypto::x509::Certificate::from_der_or_pem(&std::fs::read(&ci_paths.ci_cert)?)?;
    let ci_key = rsp_crypto::ecc::PrivateKey::from_pem(&std::fs::read_to_string(
        fixtures
            .sgp26
            .join("CertificateIssuer/SK_CI_ECDSA_NIST.pem"),
    )?)?;
    let tls = TlsIdentity::mint(
        &ci,
        &ci_key,
        SMDP_ADDRESS,
        Some(&"2.999.10".parse::<Oid>()?),
        now,
        30,
    )?;
    let chain: Vec<rustls_pki_types::CertificateDer<'static>> = tls
        .chain
        .iter()
        .map(|c| rustls_pki_types::CertificateDer::from(c.der().to_vec()))
        .collect();
    let key = rustls_pki_types::PrivateKeyDer::try_from(tls.key().to_pkcs8_der().to_vec())?;
    let mut server_tls = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    server_tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let identity = Arc::new(SmdpIdentity::new(SMDP_ADDRESS, curves, tls)?);
    let inventory = Arc::new(inventory(fixtures)?);
    let store = rsp_store::open(&format!(
        "sqlite://{}",
        dir.join(format!("smdp-{}.sqlite", config.svn)).display()
    ))
    .await?;
    let service = Es9Service::new(config, identity, inventory.clone(), store.clone());
    let app = rsp_smdpp::es9plus::json::router(service.clone())
        .merge(rsp_smdpp::es9plus::asn1::router(service));
    let tcp = TcpListener::bind("127.0.0.1:0").await?;
    let socket = tcp.local_addr()?;
    let listener = TlsListener {
        local: socket,
        tcp,
        acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(server_tls)),
    };
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(SmdpServer {
        address: SMDP_ADDRESS.into(),
        socket,
        ci_pem: ci.to_pem(),
        orders: Orders::new(store.clone()),
        inventory,
        store,
        log: WireLog::default(),
        task,
    })
}

impl SmdpServer {
    /// A released order for `matching_id` (EID-bound when `eid` is given), with an optional
    /// Confirmation Code: what ES2+ DownloadOrder + ConfirmOrder(releaseFlag true) produce.
    pub async fn order(
        &self,
        matching_id: &str,
        eid: Option<Eid>,
        cc: Option<&str>,
    ) -> Result<StoredOrder, HarnessError> {
        let now = OffsetDateTime::now_utc();
        let req = AllocationRequest {
            operator: OPERATOR.into(),
            eid,
            iccid: None,
            profile_type: Some(PROFILE_TYPE.into()),
            expires_at: None,
            limits: OrderLimits::default(),
        };
        let mut stored = self.inventory.allocate(&self.orders, &req, now).await?;
        let confirm = ConfirmRequest {
            eid: None,
            matching_id: Some(matching_id.into()),
            confirmation_code: cc.map(str::to_string),
            smds_address: None,
            release_flag: true,
        };
        stored.order.confirm(OPERATOR, &confirm, matching_id)?;
        let iccid = stored.order.iccid;
        Ok(self
            .orders
            .save(&stored, vec![matching_id_claim(matching_id, &iccid)], now)
            .await?)
    }

    /// The order of `iccid` as stored now.
    pub async fn order_of(&self, iccid: &Iccid) -> Result<Option<StoredOrder>, HarnessError> {
        Ok(self.orders.get(iccid).await?)
    }

    /// The UPP the SM-DP+ delivers for `iccid`.
    pub fn upp(&self, iccid: &Iccid) -> Result<Vec<u8>, HarnessError> {
        Ok(self.inventory.personalised_upp(iccid)?)
    }

    /// The wire log every client from [`SmdpServer::client`] writes to.
    pub fn log(&self) -> WireLog {
        self.log.clone()
    }

    /// An HTTPS ES9+ client for an LPA at `lpa_svn`, trusting the CI, resolving the SM-DP+'s
    /// address to its socket.
    pub fn client(&self, lpa_svn: Svn, binding: Binding) -> Result<HttpEs9Client, HarnessError> {
        let cfg = HttpConfig::new(lpa_svn)
            .with_trust(self.ci_pem.as_bytes())?
            .with_resolve(self.address.clone(), self.socket)
            .with_binding(binding);
        Ok(HttpEs9Client::new(cfg)?.with_log(self.log.clone()))
    }

    /// An LPA with `config` driving `card`, over the JSON binding to this SM-DP+.
    pub fn lpa(
        &self,
        config: LpaConfig,
        card: ConsumerEuicc,
    ) -> Result<Lpa<ApduTransport<ConsumerEuicc>, HttpEs9Client>, HarnessError> {
        self.lpa_with(config, card, Binding::Json)
    }

    /// An LPA with `config` driving `card`, over `binding` (JSON or ASN.1) to this SM-DP+.
    pub fn lpa_with(
        &self,
        config: LpaConfig,
        card: ConsumerEuicc,
        binding: Binding,
    ) -> Result<Lpa<ApduTransport<ConsumerEuicc>, HttpEs9Client>, HarnessError> {
        let client = self.client(config.svn, binding)?;
        let isd_r = config.isd_r_aid;
        Ok(Lpa::new(config, ApduTransport::new(card, isd_r), client))
    }

    /// A download request for `matching_id` at this SM-DP+.
    pub fn request(&self, matching_id: &str) -> DownloadRequest {
        DownloadRequest::new(self.address.clone(), Some(matching_id.into()))
    }
}

/// The SGP.26 test eUICC as a consumer card at `svn` (its clock set to now).
pub fn card(fixtures: &Fixtures, svn: Svn) -> Result<ConsumerEuicc, HarnessError> {
    card_with(fixtures, ConsumerConfig::new(svn))
}

/// The SGP.26 test eUICC with `config`.
pub fn card_with(
    fixtures: &Fixtures,
    config: ConsumerConfig,
) -> Result<ConsumerEuicc, HarnessError> {
    let mut card = ConsumerEuicc::sgp26(&fixtures.sgp26, config)?;
    card.set_time(CardTime::now());
    Ok(card)
}
