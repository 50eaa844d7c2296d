#![allow(clippy::unwrap_used, clippy::expect_used)]
use rsp_sgp02::bodies::ProfileRequest;
use rsp_sgp02::common::BaseRequest;
use rsp_sgp02::xml::Element;
use rsp_sgp02::{Bodies, DEFAULT_NAMESPACE, FunctionId, RequestBody, fns};
use rsp_types::FunctionCallIdentifier;

#[test]
fn typed_body_round_trips_through_xml() {
    let req = ProfileRequest {
        base: BaseRequest::new(FunctionCallIdentifier::new("fc-1").unwrap()),
        eid: "89049032123451234512345678901235".parse().unwrap(),
        iccid: "89000123456789012341".parse().unwrap(),
    };
    let body = fns::Es4EnableProfile::wrap_request(req.clone());
    let el = body.encode(DEFAULT_NAMESPACE);
    let xml = el.to_xml();
    assert!(xml.starts_with("<rps:ES4-EnableProfileRequest"), "{xml}");
    let parsed = Element::parse(&xml).unwrap();
    let back = RequestBody::decode(FunctionId::Es4EnableProfile, &parsed).unwrap();
    assert_eq!(fns::Es4EnableProfile::unwrap_request(back), Some(req));
    let info = FunctionId::Es4HandleProfileEnabledNotification.info();
    assert_eq!(
        info.request_element(),
        "ES4-HandleProfileEnabledNotification"
    );
    assert!(info.response_schema.is_none());
    assert_eq!(
        FunctionId::Es4EnableProfile.info().request_action(),
        "http://gsma.com/ES4/ProfileManagement/ES4-EnableProfile"
    );
}
