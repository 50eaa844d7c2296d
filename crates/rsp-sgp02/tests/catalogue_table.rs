#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The catalogue against the function lists of the spec digest (sgp02.md §3 and §6, U-07, C-16).

use std::collections::{BTreeMap, BTreeSet};

use rsp_sgp02::data::NotificationKind;
use rsp_sgp02::functions::NAME_ALIASES;
use rsp_sgp02::{CATALOGUE, FunctionId, Interface, Pattern};
use rsp_types::Role;

/// (interface, function name) exactly as sgp02.md §6 lists them, PLMA functions named per C-16.
const EXPECTED: &[(Interface, &[&str])] = &[
    (
        Interface::Es1,
        &["RegisterEIS", "UpdateEISAdditionalProperties"],
    ),
    (
        Interface::Es2,
        &[
            "GetEIS",
            "DownloadProfile",
            "UpdatePolicyRules",
            "UpdateSubscriptionAddress",
            "EnableProfile",
            "DisableProfile",
            "DeleteProfile",
            "HandleProfileDisabledNotification",
            "HandleProfileEnabledNotification",
            "HandleSMSRChangeNotification",
            "HandleProfileDeletedNotification",
            "AuditEIS",
            "SetPLMA",
            "GetPLMA",
            "HandleProfileDownloadedNotification",
            "HandleProfilePOL2UpdatedNotification",
            "HandlePLMASettingNotification",
            "SetONC",
            "GetONC",
            "SetEmergencyProfileAttribute",
            "HandleEmergencyProfileAttributeSetNotification",
            "HandleEmergencyProfileAttributeUnsetNotification",
            "SetFallBackAttribute",
            "HandleFallBackAttributeSetNotification",
            "HandleFallBackAttributeUnsetNotification",
        ],
    ),
    (
        Interface::Es3,
        &[
            "GetEIS",
            "AuditEIS",
            "CreateISDP",
            "SendData",
            "ProfileDownloadCompleted",
            "UpdatePolicyRules",
            "UpdateSubscriptionAddress",
            "UpdateConnectivityParameters",
            "EnableProfile",
            "DisableProfile",
            "DeleteISDP",
            "HandleProfileDisabledNotification",
            "HandleProfileEnabledNotification",
            "HandleProfileDeletedNotification",
            "HandleSMSRChangeNotification",
            "HandleProfileDownloadedNotification",
            "HandleProfilePOL2UpdatedNotification",
            "HandlePLMASettingNotification",
            "SetPLMA",
            "GetPLMA",
            "SetONC",
            "GetONC",
            "SetEmergencyProfileAttribute",
            "HandleEmergencyProfileAttributeSetNotification",
            "HandleEmergencyProfileAttributeUnsetNotification",
            "SetFallBackAttribute",
            "HandleFallBackAttributeSetNotification",
            "HandleFallBackAttributeUnsetNotification",
        ],
    ),
    (
        Interface::Es4,
        &[
            "GetEIS",
            "UpdatePolicyRules",
            "UpdateSubscriptionAddress",
            "AuditEIS",
            "EnableProfile",
            "DisableProfile",
            "DeleteProfile",
            "PrepareSMSRChange",
            "SMSRChange",
            "HandleProfileDisabledNotification",
            "HandleProfileEnabledNotification",
            "HandleSMSRChangeNotification",
            "HandleProfileDeletedNotification",
            "HandleProfileDownloadedNotification",
            "HandleProfilePOL2UpdatedNotification",
            "HandlePLMASettingNotification",
            "GetPLMA",
            "SetEmergencyProfileAttribute",
            "HandleEmergencyProfileAttributeSetNotification",
            "HandleEmergencyProfileAttributeUnsetNotification",
            "SetFallBackAttribute",
            "HandleFallBackAttributeSetNotification",
            "HandleFallBackAttributeUnsetNotification",
        ],
    ),
    (Interface::Es4a, &["SetPLMA", "GetPLMA", "SetONC", "GetONC"]),
    (
        Interface::Es7,
        &[
            "HandoverEUICC",
            "AuthenticateSMSR",
            "CreateAdditionalKeySet",
        ],
    ),
];

#[test]
fn counts_per_interface_match_sgp02() {
    let mut counts: BTreeMap<Interface, usize> = BTreeMap::new();
    for f in CATALOGUE {
        *counts.entry(f.interface).or_default() += 1;
    }
    let expected = [
        (Interface::Es1, 2),
        (Interface::Es2, 25),
        (Interface::Es3, 28),
        (Interface::Es4, 23),
        (Interface::Es4a, 4),
        (Interface::Es7, 3),
    ];
    assert_eq!(counts.into_iter().collect::<Vec<_>>(), expected);
    assert_eq!(CATALOGUE.len(), 85);
}

#[test]
fn names_are_exactly_the_digest_lists_in_order() {
    for (iface, names) in EXPECTED {
        let got: Vec<&str> = CATALOGUE
            .iter()
            .filter(|f| f.interface == *iface)
            .map(|f| f.name)
            .collect();
        assert_eq!(&got, names, "{iface}");
    }
}

#[test]
fn identifiers_element_names_and_actions_are_unique() {
    let mut pairs = BTreeSet::new();
    let mut elements = BTreeSet::new();
    let mut actions = BTreeSet::new();
    for (i, f) in CATALOGUE.iter().enumerate() {
        assert_eq!(f.id.info().id, f.id, "info() of {}", f.qualified_name());
        assert_eq!(f.id as usize, i);
        assert!(
            pairs.insert((f.interface, f.name)),
            "duplicate {}",
            f.qualified_name()
        );
        assert!(
            elements.insert(f.request_element()),
            "duplicate element {}",
            f.request_element()
        );
        if let Some(r) = f.response_element() {
            assert!(elements.insert(r.clone()), "duplicate element {r}");
        }
        assert!(
            actions.insert(f.request_action()),
            "duplicate action {}",
            f.request_action()
        );
        if let Some(a) = f.response_action() {
            assert!(actions.insert(a.clone()), "duplicate action {a}");
        }
    }
    assert_eq!(FunctionId::all().count(), 85);
}

#[test]
fn notifications_have_no_response_and_requests_do() {
    for f in CATALOGUE {
        let is_notification_name = f.name.starts_with("Handle") && f.name.ends_with("Notification");
        assert_eq!(
            f.pattern == Pattern::Notification,
            is_notification_name,
            "{}",
            f.qualified_name()
        );
        match f.pattern {
            Pattern::Notification => {
                assert!(f.response_schema.is_none(), "{}", f.qualified_name());
                assert!(f.response_element().is_none());
                assert_eq!(
                    f.request_element(),
                    format!("{}-{}", f.interface.name(), f.name)
                );
            }
            _ => {
                assert!(f.response_schema.is_some(), "{}", f.qualified_name());
                assert_eq!(
                    f.request_element(),
                    format!("{}-{}Request", f.interface.name(), f.name)
                );
            }
        }
    }
}

#[test]
fn roles_follow_the_interface_directions() {
    use Role::*;
    for f in CATALOGUE {
        let notif = f.pattern == Pattern::Notification;
        let (callers, provider): (&[Role], &[Role]) = match (f.interface, notif) {
            (Interface::Es1, false) => (&[Eum], &[SmSr]),
            (Interface::Es2, false) => (&[Operator], &[SmDp]),
            (Interface::Es2, true) => (&[SmDp], &[Operator]),
            (Interface::Es3, false) => (&[SmDp], &[SmSr]),
            (Interface::Es3, true) => (&[SmSr], &[SmDp]),
            (Interface::Es4, true) => (&[SmSr], &[Operator, M2mSp]),
            (Interface::Es4a, false) => (&[Operator], &[SmSr]),
            (Interface::Es7, false) => (&[SmSr], &[SmSr]),
            (Interface::Es4, false) => {
                let operator_only = [
                    "UpdatePolicyRules",
                    "UpdateSubscriptionAddress",
                    "PrepareSMSRChange",
                    "SMSRChange",
                ];
                if operator_only.contains(&f.name) {
                    (&[Operator], &[SmSr])
                } else {
                    (&[Operator, M2mSp], &[SmSr])
                }
            }
            other => panic!("unexpected {other:?} for {}", f.qualified_name()),
        };
        assert_eq!(f.callers, callers, "{}", f.qualified_name());
        assert_eq!(f.provider, provider, "{}", f.qualified_name());
    }
    // POL2 can never be delegated to an M2M SP (sgp02.md §9).
    assert!(!FunctionId::Es4UpdatePolicyRules.info().allows(M2mSp));
    assert!(FunctionId::Es4EnableProfile.info().allows(M2mSp));
}

#[test]
fn action_groups_follow_c13() {
    for f in CATALOGUE {
        let euicc = matches!(f.interface, Interface::Es1 | Interface::Es7)
            || (f.interface == Interface::Es4
                && matches!(f.name, "PrepareSMSRChange" | "SMSRChange"));
        let want = if euicc {
            "eUICCManagement"
        } else {
            "ProfileManagement"
        };
        assert_eq!(f.group, want, "{}", f.qualified_name());
    }
    let f = FunctionId::Es7AuthenticateSmsr.info();
    assert_eq!(
        f.request_action(),
        "http://gsma.com/ES7/eUICCManagement/ES7-AuthenticateSMSR"
    );
    assert_eq!(
        f.response_action().as_deref(),
        Some("http://gsma.com/ES7/eUICCManagement/ES7-AuthenticateSMSRResponse")
    );
    assert_eq!(
        f.callback_action().as_deref(),
        Some("http://gsma.com/ES7/eUICCManagementCallBack/ES7-AuthenticateSMSR")
    );
}

#[test]
fn card_bound_functions_are_asynchronous() {
    let sync_names = [
        "RegisterEIS",
        "UpdateEISAdditionalProperties",
        "GetEIS",
        "UpdatePolicyRules",
        "UpdateSubscriptionAddress",
        "ProfileDownloadCompleted",
        "SetPLMA",
        "GetPLMA",
        "SetONC",
        "GetONC",
    ];
    for f in CATALOGUE
        .iter()
        .filter(|f| f.pattern != Pattern::Notification)
    {
        let want = if sync_names.contains(&f.name) {
            Pattern::RequestResponse
        } else {
            Pattern::AsyncRequestResponse
        };
        assert_eq!(f.pattern, want, "{}", f.qualified_name());
    }
}

#[test]
fn notification_kinds_name_es4_notifications() {
    let es4: BTreeSet<&str> = CATALOGUE
        .iter()
        .filter(|f| f.interface == Interface::Es4 && f.pattern == Pattern::Notification)
        .map(|f| f.name)
        .collect();
    let kinds: BTreeSet<&str> = NotificationKind::ALL.iter().map(|k| k.as_str()).collect();
    assert_eq!(es4, kinds);
}

#[test]
fn lookup_accepts_names_and_aliases() {
    assert_eq!(
        FunctionId::lookup(Interface::Es3, "CreateISDP"),
        Some(FunctionId::Es3CreateIsdp)
    );
    assert_eq!(
        FunctionId::lookup(Interface::Es3, "DeleteProfile"),
        Some(FunctionId::Es3DeleteIsdp)
    );
    assert_eq!(
        FunctionId::lookup(Interface::Es2, "SetAuthorisationsOfM2MSP"),
        Some(FunctionId::Es2SetPlma)
    );
    assert_eq!(
        FunctionId::lookup(Interface::Es7, "AuthenticateSM-SR"),
        Some(FunctionId::Es7AuthenticateSmsr)
    );
    assert_eq!(
        FunctionId::lookup(Interface::Es4a, "UpdatePolicyRules"),
        None
    );
    assert_eq!(
        FunctionId::lookup(Interface::Es7, "HandleSMSRChangeNotification"),
        None
    );
    for (iface, alias, id) in NAME_ALIASES {
        assert_eq!(id.info().interface, *iface, "{alias}");
        assert!(
            CATALOGUE
                .iter()
                .all(|f| f.interface != *iface || f.name != *alias),
            "alias {alias} shadows a name"
        );
    }
}
