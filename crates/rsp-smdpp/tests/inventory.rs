//! Inventory: ICCID personalisation of the TS.48 UPPs, allocation for DownloadOrder, and the
//! order rows in the store (optimistic concurrency, lookups, reopening the SQLite file).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use rsp_smdpp::inventory::{
    AllocationRequest, IccidRange, Inventory, InventoryError, ProfileMetadata, ProfileTypeConfig,
    personalise_iccid, upp_iccid,
};
use rsp_smdpp::order::{
    ConfirmRequest, OrderLimits, OrderState, OrderStoreError, Orders, StoredOrder,
};
use rsp_types::{Eid, Iccid};
use time::OffsetDateTime;

const PROFILES: [&str; 4] = [
    "SAIP2.3_BERTLV_SUCI.der",
    "SAIP2.3_BERTLV_SUCI_NoRAMRFM.der",
    "SAIP2.3_NoBERTLV.der",
    "SAIP2.3_NoBERTLV_NoRAMRFM.der",
];

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/profiles/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn count(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| *w == needle).count()
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_750_000_000).unwrap()
}

#[test]
fn ts48_templates_are_personalised_in_header_and_ef_iccid() {
    let ts48: Iccid = "89000123456789012341".parse().unwrap();
    let header_form = hex::decode("89000123456789012341").unwrap();
    let ef_form = hex::decode("98001032547698103214").unwrap();
    for name in PROFILES {
        let upp = fixture(name);
        assert_eq!(upp_iccid(&upp).unwrap(), ts48, "{name}");
        let a = Iccid::with_luhn("8988228000000000011").unwrap();
        let b = Iccid::with_luhn("8988228000000000022").unwrap();
        let pa = personalise_iccid(&upp, &a).unwrap();
        let pb = personalise_iccid(&upp, &b).unwrap();
        assert_eq!(pa.len(), upp.len());
        assert_eq!(upp_iccid(&pa).unwrap(), a, "{name}");
        assert_eq!(upp_iccid(&pb).unwrap(), b, "{name}");
        assert_ne!(pa, pb);
        // The template's ICCID is gone from both places, the new one is in both forms.
        assert_eq!(count(&pa, &header_form), 0, "{name}");
        assert_eq!(count(&pa, &ef_form), 0, "{name}");
        let a_header = hex::decode(a.as_str()).unwrap();
        assert_eq!(count(&pa, &a_header), 1, "{name}");
        assert_eq!(count(&pa, &a.to_bcd_swapped()), 1, "{name}");
        // Nothing else changed.
        let changed = upp.iter().zip(&pa).filter(|(x, y)| x != y).count();
        assert!(changed <= 20, "{name}: {changed} bytes changed");
        // A 19-digit ICCID gets the F pad in the header.
        let short = Iccid::with_luhn("898822800000000001").unwrap();
        assert_eq!(short.digit_count(), 19);
        let ps = personalise_iccid(&upp, &short).unwrap();
        assert_eq!(upp_iccid(&ps).unwrap(), short);
        let padded = hex::decode(format!("{short}F")).unwrap();
        assert_eq!(count(&ps, &padded), 1, "{name}");
    }
    // A package without the MF element is refused.
    let upp = fixture(PROFILES[2]);
    let header_only = rsp_types::tlv::parse_one(&upp).unwrap().0.raw().to_vec();
    assert!(upp_iccid(&header_only).is_err());
    assert!(upp_iccid(b"\x01\x02").is_err());
}

fn inventory(count: u64) -> Inventory {
    Inventory::new(vec![
        ProfileTypeConfig {
            name: "T1".into(),
            template: fixture("SAIP2.3_NoBERTLV.der"),
            iccids: IccidRange {
                first: Iccid::with_luhn("898822800000000010").unwrap(),
                count,
            },
            package_versions: vec![rsp_types::Svn::new(2, 3, 0)],
            operators: Some(vec!["op1".into(), "op2".into()]),
            metadata: ProfileMetadata {
                service_provider_name: "Test SP".into(),
                profile_name: "Test profile".into(),
                profile_class: Some(2),
                ppr_ids: vec![],
                notifications: vec![(0, "smdp.example.com".into())],
            },
        },
        ProfileTypeConfig {
            name: "T2".into(),
            template: fixture("SAIP2.3_BERTLV_SUCI.der"),
            iccids: IccidRange {
                first: Iccid::with_luhn("898822800000001000").unwrap(),
                count: 10,
            },
            package_versions: vec![rsp_types::Svn::new(2, 3, 0)],
            operators: Some(vec!["op2".into()]),
            metadata: ProfileMetadata::default(),
        },
    ])
    .unwrap()
}

fn request(op: &str, profile_type: Option<&str>, iccid: Option<Iccid>) -> AllocationRequest {
    AllocationRequest {
        operator: op.into(),
        eid: None,
        iccid,
        profile_type: profile_type.map(str::to_owned),
        expires_at: None,
        limits: OrderLimits::default(),
    }
}

#[test]
fn overlapping_ranges_and_bad_templates_are_refused() {
    let mut types: Vec<ProfileTypeConfig> = Vec::new();
    let base = ProfileTypeConfig {
        name: "A".into(),
        template: fixture("SAIP2.3_NoBERTLV.der"),
        iccids: IccidRange {
            first: Iccid::with_luhn("898822800000000010").unwrap(),
            count: 10,
        },
        package_versions: vec![],
        operators: None,
        metadata: ProfileMetadata::default(),
    };
    types.push(base.clone());
    let mut b = base.clone();
    b.name = "B".into();
    b.iccids.first = Iccid::with_luhn("898822800000000019").unwrap();
    types.push(b);
    assert!(matches!(
        Inventory::new(types),
        Err(InventoryError::Config(_))
    ));
    let mut c = base;
    c.template = vec![0xA0, 0x00];
    assert!(matches!(
        Inventory::new(vec![c]),
        Err(InventoryError::Template { .. })
    ));
}

#[tokio::test]
async fn allocation_by_type_and_by_iccid() {
    let store = rsp_store::open("sqlite::memory:").await.unwrap();
    let orders = Orders::new(store);
    let inv = inventory(3);
    let first = inv
        .allocate(&orders, &request("op1", Some("T1"), None), now())
        .await
        .unwrap();
    assert_eq!(
        first.order.iccid,
        IccidRange {
            first: Iccid::with_luhn("898822800000000010").unwrap(),
            count: 3
        }
        .nth(0)
        .unwrap()
    );
    assert_eq!(first.order.state, OrderState::Allocated);
    assert_eq!(first.order.operator_id, "op1");
    // Metadata and personalised UPP follow the ICCID.
    let md = inv.metadata(&first.order.iccid).unwrap();
    assert_eq!(md.iccid, first.order.iccid);
    assert_eq!(md.service_provider_name, "Test SP");
    assert_eq!(
        upp_iccid(&inv.personalised_upp(&first.order.iccid).unwrap()).unwrap(),
        first.order.iccid
    );
    // By ICCID: the third one; then the type has only the second left.
    let third = inv.profile_type("T1").unwrap().iccids.nth(2).unwrap();
    let mut with_eid = request("op1", None, Some(third));
    with_eid.eid = Some(Eid::with_check_digits("890490321234512345123456789012").unwrap());
    let got = inv.allocate(&orders, &with_eid, now()).await.unwrap();
    assert_eq!(got.order.state, OrderState::Linked);
    assert!(matches!(
        inv.allocate(&orders, &request("op1", None, Some(third)), now())
            .await,
        Err(InventoryError::NotAvailable)
    ));
    let second = inv
        .allocate(&orders, &request("op2", Some("T1"), None), now())
        .await
        .unwrap();
    assert_eq!(
        second.order.iccid,
        inv.profile_type("T1").unwrap().iccids.nth(1).unwrap()
    );
    let exhausted = inv
        .allocate(&orders, &request("op1", Some("T1"), None), now())
        .await
        .unwrap_err();
    assert_eq!(exhausted.status().unwrap().to_string(), "8.2.5/3.7");
    // Refusals with their codes.
    let code = |e: InventoryError| e.status().unwrap().to_string();
    assert_eq!(
        code(
            inv.allocate(&orders, &request("op1", Some("T9"), None), now())
                .await
                .unwrap_err()
        ),
        "8.2.5/3.9"
    );
    assert_eq!(
        code(
            inv.allocate(&orders, &request("op1", Some("T2"), None), now())
                .await
                .unwrap_err()
        ),
        "8.2.5/1.2"
    );
    let t2_iccid = inv.profile_type("T2").unwrap().iccids.nth(0).unwrap();
    assert_eq!(
        code(
            inv.allocate(&orders, &request("op2", Some("T1"), Some(t2_iccid)), now())
                .await
                .unwrap_err()
        ),
        "8.2.5/3.8"
    );
    let stranger = Iccid::with_luhn("898822800000099999").unwrap();
    assert_eq!(
        code(
            inv.allocate(&orders, &request("op1", None, Some(stranger)), now())
                .await
                .unwrap_err()
        ),
        "8.2.1/3.9"
    );
    assert_eq!(
        code(
            inv.allocate(&orders, &request("op1", None, None), now())
                .await
                .unwrap_err()
        ),
        "1.6/2.2"
    );
    // A cancelled (Available) ICCID is handed out again.
    let mut s = orders.get(&first.order.iccid).await.unwrap().unwrap();
    s.order
        .cancel(
            "op1",
            None,
            None,
            rsp_smdpp::order::FinalProfileStatus::Available,
        )
        .unwrap();
    orders.save(&s, vec![], now()).await.unwrap();
    let again = inv
        .allocate(&orders, &request("op2", Some("T1"), None), now())
        .await
        .unwrap();
    assert_eq!(again.order.iccid, first.order.iccid);
    assert_eq!(again.order.operator_id, "op2");
}

#[tokio::test]
async fn concurrent_allocations_get_distinct_iccids() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("o.db").display());
    let store = rsp_store::open(&url).await.unwrap();
    let inv = Arc::new(inventory(8));
    let mut tasks = Vec::new();
    for i in 0..6 {
        let orders = Orders::new(store.clone());
        let inv = inv.clone();
        tasks.push(tokio::spawn(async move {
            inv.allocate(
                &orders,
                &request(if i % 2 == 0 { "op1" } else { "op2" }, Some("T1"), None),
                now(),
            )
            .await
            .unwrap()
            .order
            .iccid
        }));
    }
    let mut got = Vec::new();
    for t in tasks {
        got.push(t.await.unwrap());
    }
    got.sort();
    got.dedup();
    assert_eq!(got.len(), 6, "every allocation got its own ICCID");
}

#[tokio::test]
async fn stale_versions_lose_and_orders_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("o.db").display());
    let eid = Eid::with_check_digits("890490321234512345123456789012").unwrap();
    let iccid;
    {
        let store = rsp_store::open(&url).await.unwrap();
        let orders = Orders::new(store.clone());
        let inv = inventory(3);
        let s = inv
            .allocate(&orders, &request("op1", Some("T1"), None), now())
            .await
            .unwrap();
        iccid = s.order.iccid;
        // Two nodes read the same version; only the first write wins.
        let mut a: StoredOrder = orders.get(&iccid).await.unwrap().unwrap();
        let mut b = a.clone();
        let confirm = ConfirmRequest {
            eid: Some(eid),
            release_flag: true,
            ..ConfirmRequest::default()
        };
        a.order.confirm("op1", &confirm, "NODE-A").unwrap();
        b.order.confirm("op1", &confirm, "NODE-B").unwrap();
        orders.save(&a, vec![], now()).await.unwrap();
        assert!(matches!(
            orders.save(&b, vec![], now()).await,
            Err(OrderStoreError::Conflict)
        ));
        // Lookups.
        let by_mid = orders.by_matching_id("NODE-A").await.unwrap().unwrap();
        assert_eq!(by_mid.order.iccid, iccid);
        assert!(orders.by_matching_id("NODE-B").await.unwrap().is_none());
        store.close().await;
    }
    let store = rsp_store::open(&url).await.unwrap();
    let orders = Orders::new(store);
    let back = orders.get(&iccid).await.unwrap().unwrap();
    assert_eq!(back.order.state, OrderState::Released);
    assert_eq!(back.order.matching_id.as_deref(), Some("NODE-A"));
    assert_eq!(back.order.eid, Some(eid));
    back.order.authorize_download(&eid, now()).unwrap();
}

#[tokio::test]
async fn order_without_matching_id_is_found_by_eid() {
    let store = rsp_store::open("sqlite::memory:").await.unwrap();
    let orders = Orders::new(store);
    let inv = inventory(3);
    let eid = Eid::with_check_digits("890490321234512345123456789012").unwrap();
    let mut s = inv
        .allocate(&orders, &request("op1", Some("T1"), None), now())
        .await
        .unwrap();
    let confirm = ConfirmRequest {
        eid: Some(eid),
        matching_id: Some(String::new()),
        release_flag: true,
        ..ConfirmRequest::default()
    };
    s.order.confirm("op1", &confirm, "").unwrap();
    orders.save(&s, vec![], now()).await.unwrap();
    let found = orders
        .by_eid_without_matching_id(&eid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.order.iccid, s.order.iccid);
    let other = Eid::with_check_digits("890490321234512345123456789099").unwrap();
    assert!(
        orders
            .by_eid_without_matching_id(&other)
            .await
            .unwrap()
            .is_none()
    );
}
