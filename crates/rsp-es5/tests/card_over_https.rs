#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The simulated M2M eUICC (rsp-euicc) behind the card-side HTTPS client, against the SM-SR's admin server and
//! command queue, over PSK-TLS on 127.0.0.1: real GlobalPlatform scripts (rsp-gp) in both directions, the card's
//! SCP81 key from its own ISD-R, a Default Notification delivered in the session and confirmed in the same one.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use bytes::Bytes;
use rsp_crypto::pki::{self, PkiOptions};
use rsp_es5::https::{
    AdminServer, AdminServerConfig, AdminSessionHandler, CardClient, CardClientConfig,
    CardEndpoint, InMemoryPskKeyStore, Psk, PskIdentity, SessionOpened, SessionSummary,
};
use rsp_es5::queue::{Es5Queue, NewCommand, Outcome, QueueConfig, ScriptStatus, Target};
use rsp_euicc::m2m::issue::{BootstrapProfile, IssueOptions};
use rsp_euicc::m2m::{CardTime, IssuerMaterial, KeySetKind, M2mCard};
use rsp_gp::response::{IsdPStatus, LifeCycleState};
use rsp_gp::script::{Script, ScriptResponse};
use rsp_gp::{CardCommand, ResponseApdu, StatusWord};
use rsp_types::{Aid, Eid};
use tokio::net::TcpListener;

const TS48: &[u8] = include_bytes!("../../rsp-euicc/tests/fixtures/profiles/SAIP2.3_NoBERTLV.der");

/// The card as a RAM-over-HTTP endpoint: each script's C-APDUs go to the card, stop at the first error.
struct ScriptCard {
    card: Arc<Mutex<M2mCard>>,
}

impl CardEndpoint for ScriptCard {
    fn process_script(&mut self, target: Option<Aid>, script: &[u8]) -> Vec<u8> {
        let mut card = self.card.lock().unwrap();
        if let Some(aid) = target {
            // X-Admin-Targeted-Application: the script is for an ISD-P.
            if card.select(&aid).is_err() {
                return ScriptResponse::default().encode().unwrap_or_default();
            }
        }
        let Ok(script) = Script::parse(script) else {
            return Vec::new();
        };
        let response = script.execute(|apdu| {
            let bytes = apdu.encode().unwrap_or_default();
            ResponseApdu::parse(&card.process_apdu(&bytes))
                .unwrap_or_else(|_| ResponseApdu::status(StatusWord(0x6F00)))
        });
        response.encode().unwrap_or_default()
    }
}

/// Queues a NotificationConfirmation for every Default Notification that opens a session.
struct Confirmer {
    queue: Es5Queue,
    notifications: Arc<Mutex<Vec<rsp_gp::notification::DefaultNotification>>>,
}

#[async_trait]
impl AdminSessionHandler for Confirmer {
    async fn session_opened(&self, opened: &SessionOpened) {
        if let Some(bytes) = &opened.notification {
            let n = rsp_gp::notification::DefaultNotification::parse(bytes).unwrap();
            let script = script_of(vec![CardCommand::notification_confirmation(
                n.sequence_number,
            )]);
            self.queue
                .enqueue(command(n.eid, Target::IsdR, script))
                .unwrap();
            self.notifications.lock().unwrap().push(n);
        }
    }
    async fn session_closed(&self, _summary: &SessionSummary) {}
}

fn command(eid: Eid, target: Target, script: Vec<u8>) -> NewCommand {
    NewCommand {
        eid,
        target,
        script: Bytes::from(script),
        deadline: SystemTime::now() + Duration::from_secs(120),
        correlation: "test".into(),
    }
}

fn script_of(commands: Vec<CardCommand>) -> Vec<u8> {
    Script::from_commands(&commands).unwrap().encode().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn simulated_card_runs_sm_sr_scripts_over_psk_tls() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = pki::generate(
        dir.path(),
        &PkiOptions {
            euicc_count: 1,
            brainpool: false,
            ..PkiOptions::default()
        },
    )
    .unwrap();
    let material = IssuerMaterial::from_manifest(&manifest, "sgp02/euicc-1").unwrap();
    let bootstrap_aid: Aid = "A0000005591010FFFFFFFF8900001000".parse().unwrap();
    let options = IssueOptions {
        rng_seed: Some(11),
        production_time: CardTime(0),
        bootstrap: Some(BootstrapProfile {
            aid: bootstrap_aid,
            package: TS48.to_vec(),
            pol1: Default::default(),
        }),
        ..IssueOptions::default()
    };
    let (mut card, seed) = M2mCard::issue(material, options).unwrap();
    let eid = *card.eid();
    card.network_attached(CardTime(1));
    let first_attach = card.poll_notification().expect("first-attach notification");

    // The SM-SR side knows the card's SCP81 key from its EIS (here: read from the issued card).
    let isd_r = card.isd_r().clone();
    let scp81 = isd_r
        .key_sets_of(KeySetKind::Scp81)
        .next()
        .expect("an SCP81 key set");
    let key = &scp81.keys[0];
    let keys = Arc::new(InMemoryPskKeyStore::new());
    keys.insert(
        eid,
        scp81.version,
        key.id,
        Psk::new(key.value.to_vec()).unwrap(),
    );
    assert_eq!(seed.eid, eid);

    let queue = Es5Queue::new(QueueConfig::default());
    let notifications = Arc::new(Mutex::new(Vec::new()));
    let server = AdminServer::new(AdminServerConfig::default(), queue.clone(), keys)
        .unwrap()
        .with_handler(Arc::new(Confirmer {
            queue: queue.clone(),
            notifications: notifications.clone(),
        }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move { server.serve(listener).await });

    // Work for the card: create an ISD-P, then list the ISD-Ps.
    let new_isd_p: Aid = "A0000005591010FFFFFFFF8900001100".parse().unwrap();
    let create = CardCommand::create_isd_p(
        seed.isd_p_loadfile_aid,
        seed.isd_p_module_aid,
        new_isd_p,
        Some(64 * 1024),
    );
    let create_ticket = queue
        .enqueue(command(eid, Target::IsdR, script_of(vec![create])))
        .unwrap();
    let status_ticket = queue
        .enqueue(command(
            eid,
            Target::IsdR,
            script_of(vec![CardCommand::get_isd_p_status(None)]),
        ))
        .unwrap();
    // A script that fails on the card: enabling an ISD-P that does not exist.
    let missing: Aid = "A0000005591010FFFFFFFF8900009900".parse().unwrap();
    let bad_ticket = queue
        .enqueue(command(
            eid,
            Target::IsdR,
            script_of(vec![CardCommand::enable_profile(missing)]),
        ))
        .unwrap();

    // The card opens the session (with its first-attach notification), runs everything queued, the SM-SR
    // confirms the notification in the same session.
    let shared = Arc::new(Mutex::new(card));
    let identity = PskIdentity::new(eid, isd_r.aid, key.id, scp81.version).unwrap();
    let client = CardClient::new(CardClientConfig::new(
        identity,
        Psk::new(key.value.to_vec()).unwrap(),
    ))
    .unwrap();
    let mut endpoint = ScriptCard {
        card: shared.clone(),
    };
    let report = client
        .connect_with_notification(addr, &first_attach.payload, &mut endpoint)
        .await
        .unwrap();
    assert!(
        report.scripts >= 4,
        "create, status, bad enable, confirmation: {report:?}"
    );

    let executed = |o: Outcome| match o {
        Outcome::Executed(r) => {
            assert_eq!(r.status, ScriptStatus::Ok);
            ScriptResponse::parse(&r.data).unwrap()
        }
        other => panic!("not executed: {other:?}"),
    };
    let create = executed(create_ticket.wait().await.unwrap().outcome);
    assert_eq!(create.first_error(), None, "{create:?}");
    let status = executed(status_ticket.wait().await.unwrap().outcome);
    let listed = IsdPStatus::parse_list(&status.responses[0].data).unwrap();
    let created = listed
        .iter()
        .find(|s| s.aid == new_isd_p)
        .expect("the new ISD-P is listed");
    assert_eq!(created.life_cycle, LifeCycleState::SELECTABLE);
    assert!(
        listed
            .iter()
            .any(|s| s.aid == bootstrap_aid && s.life_cycle == LifeCycleState::ENABLED)
    );
    let bad = executed(bad_ticket.wait().await.unwrap().outcome);
    let failed = bad
        .first_error()
        .expect("enabling a missing ISD-P fails on the card");
    assert_eq!(bad.responses[failed].sw, StatusWord(0x6A88));

    // The first-attach notification reached the SM-SR and its confirmation reached the card.
    let n = notifications.lock().unwrap().clone();
    assert_eq!(n.len(), 1);
    assert_eq!(n[0].eid, eid);
    assert!(
        shared.lock().unwrap().pending_notifications().is_empty(),
        "the card saw the confirmation"
    );

    // A client with the wrong key cannot open a session.
    let wrong = CardClient::new(CardClientConfig::new(
        identity,
        Psk::new(vec![0u8; 16]).unwrap(),
    ))
    .unwrap();
    let mut endpoint = ScriptCard {
        card: shared.clone(),
    };
    let refused = wrong.connect(addr, &mut endpoint).await;
    assert!(refused.is_err());
    task.abort();
}
