//! SOAP 1.2 envelopes with WS-Addressing 1.0 headers, and SOAP faults. Pure: bytes in, values out.

use std::fmt;

use rsp_sgp02::xml::{Element, Limits, XmlError};
use rsp_types::EntityId;

/// SOAP 1.2 envelope namespace.
pub const SOAP12_NS: &str = "http://www.w3.org/2003/05/soap-envelope";
/// SOAP 1.1 envelope namespace (refused with a VersionMismatch fault).
pub const SOAP11_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// WS-Addressing 1.0 namespace.
pub const WSA_NS: &str = "http://www.w3.org/2005/08/addressing";
/// The WS-Addressing Metadata namespace njiwa uses for the same headers (tolerated on input).
pub const WSA_NJIWA_NS: &str = "http://www.w3.org/2007/05/addressing/metadata";
/// The anonymous address: "reply in the HTTP response".
pub const WSA_ANONYMOUS: &str = "http://www.w3.org/2005/08/addressing/anonymous";
/// The "none" address: no reply wanted.
pub const WSA_NONE: &str = "http://www.w3.org/2005/08/addressing/none";
/// RelationshipType of a reply.
pub const WSA_REPLY: &str = "http://www.w3.org/2005/08/addressing/reply";
/// Namespace of rsp's own fault subcodes.
pub const RSP_FAULT_NS: &str = "urn:rsp:soap-fault";
/// WS-Security 1.0 `wsse` namespace (the `Security` header and the WS-Security fault subcodes).
pub const WSSE_NS: &str = rsp_xmlsec::ns::WSSE;

/// A WS-Addressing endpoint reference (only its address matters to rsp).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointReference {
    /// `wsa:Address`.
    pub address: String,
}

impl EndpointReference {
    /// An EPR for `address`.
    pub fn new(address: impl Into<String>) -> Self {
        Self {
            address: address.into(),
        }
    }

    /// An EPR naming an entity: `<base>?EntityId=<oid>` (the form KPN and ZTE use).
    pub fn for_entity(base: &str, entity: &EntityId) -> Self {
        Self {
            address: format!("{base}?EntityId={entity}"),
        }
    }

    /// True for the anonymous and none addresses (reply in the same HTTP exchange / no reply).
    pub fn is_anonymous(&self) -> bool {
        self.address == WSA_ANONYMOUS || self.address == WSA_NONE || self.address.is_empty()
    }

    /// The `EntityId` query parameter, accepting `?` and `&` as separators (C-12).
    pub fn entity_id(&self) -> Option<EntityId> {
        query_param(&self.address, "EntityId").and_then(|v| v.parse().ok())
    }

    /// The address without any query parameters.
    pub fn base(&self) -> &str {
        self.address.split(['?', '&']).next().unwrap_or("")
    }
}

/// The value of `name=` in a URI query, with `?` or `&` separators (lenient: several `?` allowed).
pub fn query_param<'a>(uri: &'a str, name: &str) -> Option<&'a str> {
    uri.split(['?', '&'])
        .skip(1)
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// The WS-Addressing headers of a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Addressing {
    /// `wsa:To`.
    pub to: Option<String>,
    /// `wsa:From`.
    pub from: Option<EndpointReference>,
    /// `wsa:ReplyTo`.
    pub reply_to: Option<EndpointReference>,
    /// `wsa:MessageID`.
    pub message_id: Option<String>,
    /// `wsa:Action`.
    pub action: Option<String>,
    /// `wsa:RelatesTo` (of a reply).
    pub relates_to: Option<String>,
}

/// A parsed SOAP 1.2 envelope: addressing headers and the one body element.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// WS-Addressing headers.
    pub addressing: Addressing,
    /// Header blocks rsp does not know (kept for WS-Security and extensions).
    pub other_headers: Vec<Element>,
    /// The body element (None for an empty body).
    pub body: Option<Element>,
}

/// SOAP 1.2 fault codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// The envelope is not SOAP 1.2.
    VersionMismatch,
    /// A `mustUnderstand` header was not understood.
    MustUnderstand,
    /// The message was wrong (the sender's fault): HTTP 400.
    Sender,
    /// The receiver failed: HTTP 500.
    Receiver,
}

impl FaultCode {
    fn local(self) -> &'static str {
        match self {
            Self::VersionMismatch => "VersionMismatch",
            Self::MustUnderstand => "MustUnderstand",
            Self::Sender => "Sender",
            Self::Receiver => "Receiver",
        }
    }

    /// The HTTP status the SOAP 1.2 HTTP binding gives this fault.
    pub fn http_status(self) -> u16 {
        match self {
            Self::Sender | Self::VersionMismatch | Self::MustUnderstand => 400,
            Self::Receiver => 500,
        }
    }
}

/// rsp's fault subcodes (in [`RSP_FAULT_NS`]): one per kind of refused message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultSubcode {
    /// Not well-formed XML, or not an envelope.
    MalformedMessage,
    /// DOCTYPE / entity declarations.
    ForbiddenDtd,
    /// Size, depth or element-count limit exceeded.
    MessageTooLarge,
    /// A required WS-Addressing header is missing.
    MissingHeader,
    /// The body element is in no accepted namespace.
    WrongNamespace,
    /// No catalogue function matches the body element (or the Action).
    UnknownFunction,
    /// The Action header does not match the body element.
    ActionMismatch,
    /// The body does not decode (missing or invalid element).
    InvalidBody,
    /// The caller could not be identified from its TLS certificate.
    UnknownCaller,
    /// `wsse:InvalidSecurity`: the `wsse:Security` header is missing where required, malformed, does not cover
    /// what it must, or the message is a replay.
    InvalidSecurity,
    /// `wsse:UnsupportedAlgorithm`: an algorithm, transform or token type rsp does not accept.
    UnsupportedAlgorithm,
    /// `wsse:FailedAuthentication`: the signing certificate does not chain to a trust root or is not the TLS
    /// client's.
    FailedAuthentication,
    /// `wsse:FailedCheck`: the signature does not verify.
    FailedCheck,
    /// `wsse:MessageExpired`: the Timestamp is outside the freshness window.
    MessageExpired,
    /// Internal failure.
    InternalError,
}

impl FaultSubcode {
    /// Local name of the subcode QName.
    pub fn local(self) -> &'static str {
        match self {
            Self::MalformedMessage => "MalformedMessage",
            Self::ForbiddenDtd => "ForbiddenDtd",
            Self::MessageTooLarge => "MessageTooLarge",
            Self::MissingHeader => "MissingHeader",
            Self::WrongNamespace => "WrongNamespace",
            Self::UnknownFunction => "UnknownFunction",
            Self::ActionMismatch => "ActionMismatch",
            Self::InvalidBody => "InvalidBody",
            Self::UnknownCaller => "UnknownCaller",
            Self::InvalidSecurity => "InvalidSecurity",
            Self::UnsupportedAlgorithm => "UnsupportedAlgorithm",
            Self::FailedAuthentication => "FailedAuthentication",
            Self::FailedCheck => "FailedCheck",
            Self::MessageExpired => "MessageExpired",
            Self::InternalError => "InternalError",
        }
    }

    /// The namespace of the subcode QName: [`WSSE_NS`] for the WS-Security codes, [`RSP_FAULT_NS`] otherwise.
    pub fn namespace(self) -> &'static str {
        match self {
            Self::InvalidSecurity
            | Self::UnsupportedAlgorithm
            | Self::FailedAuthentication
            | Self::FailedCheck
            | Self::MessageExpired => WSSE_NS,
            _ => RSP_FAULT_NS,
        }
    }

    fn prefix(self) -> &'static str {
        if self.namespace() == WSSE_NS {
            "wsse"
        } else {
            "rspf"
        }
    }
}

impl From<&rsp_xmlsec::wsse::WsSecurityError> for Fault {
    /// The `env:Sender` fault answering a WS-Security refusal.
    fn from(e: &rsp_xmlsec::wsse::WsSecurityError) -> Self {
        use rsp_xmlsec::wsse::WsseFaultCode as W;
        let subcode = match e.fault_code() {
            W::InvalidSecurity => FaultSubcode::InvalidSecurity,
            W::UnsupportedAlgorithm => FaultSubcode::UnsupportedAlgorithm,
            W::FailedAuthentication => FaultSubcode::FailedAuthentication,
            W::FailedCheck => FaultSubcode::FailedCheck,
            W::MessageExpired => FaultSubcode::MessageExpired,
        };
        Fault::sender(subcode, e.to_string())
    }
}

/// A SOAP 1.2 fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// The fault code.
    pub code: FaultCode,
    /// rsp's subcode, if any.
    pub subcode: Option<FaultSubcode>,
    /// Readable reason (`xml:lang="en"`).
    pub reason: String,
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SOAP fault {}", self.code.local())?;
        if let Some(s) = self.subcode {
            write!(f, "/{}", s.local())?;
        }
        write!(f, ": {}", self.reason)
    }
}

impl std::error::Error for Fault {}

impl Fault {
    /// A Sender fault.
    pub fn sender(subcode: FaultSubcode, reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Sender,
            subcode: Some(subcode),
            reason: reason.into(),
        }
    }

    /// A Receiver fault.
    pub fn receiver(subcode: FaultSubcode, reason: impl Into<String>) -> Self {
        Self {
            code: FaultCode::Receiver,
            subcode: Some(subcode),
            reason: reason.into(),
        }
    }

    /// The fault as an `env:Fault` element.
    pub fn to_element(&self) -> Element {
        let mut code = Element::new(Some(SOAP12_NS), "Code").with_child(
            Element::new(Some(SOAP12_NS), "Value").with_text(format!("env:{}", self.code.local())),
        );
        if let Some(sub) = self.subcode {
            code = code.with_child(Element::new(Some(SOAP12_NS), "Subcode").with_child(
                Element::new(Some(SOAP12_NS), "Value").with_text(format!(
                    "{}:{}",
                    sub.prefix(),
                    sub.local()
                )),
            ));
        }
        let mut text = Element::new(Some(SOAP12_NS), "Text").with_text(self.reason.clone());
        text.attributes.push(rsp_sgp02::xml::Attribute {
            ns: Some("http://www.w3.org/XML/1998/namespace".into()),
            name: "lang".into(),
            value: "en".into(),
        });
        Element::new(Some(SOAP12_NS), "Fault")
            .with_child(code)
            .with_child(Element::new(Some(SOAP12_NS), "Reason").with_child(text))
    }

    /// A complete fault envelope (with `RelatesTo` when the request had a MessageID).
    pub fn to_envelope_xml(&self, relates_to: Option<&str>) -> String {
        let mut addressing = Addressing {
            action: Some("http://www.w3.org/2005/08/addressing/soap/fault".into()),
            ..Addressing::default()
        };
        addressing.relates_to = relates_to.map(str::to_string);
        // The Value texts use the `env:` and `rspf:` prefixes: declare both on the envelope.
        write_envelope(
            &addressing,
            &[],
            Some(&self.to_element()),
            &[
                ("env", SOAP12_NS),
                ("rspf", RSP_FAULT_NS),
                ("wsse", WSSE_NS),
            ],
        )
    }

    /// Reads a fault from an `env:Fault` element.
    pub fn from_element(el: &Element) -> Self {
        let value = |e: Option<&Element>| {
            e.and_then(|c| c.child("Value"))
                .map(|v| v.trimmed_text().to_string())
        };
        let code_el = el.child("Code");
        let code_text = value(code_el).unwrap_or_default();
        let code = match code_text.rsplit(':').next().unwrap_or("") {
            "VersionMismatch" => FaultCode::VersionMismatch,
            "MustUnderstand" => FaultCode::MustUnderstand,
            "Receiver" => FaultCode::Receiver,
            _ => FaultCode::Sender,
        };
        let sub_text = value(code_el.and_then(|c| c.child("Subcode"))).unwrap_or_default();
        let sub_local = sub_text.rsplit(':').next().unwrap_or("");
        let subcode = ALL_SUBCODES.into_iter().find(|s| s.local() == sub_local);
        let reason = el
            .child("Reason")
            .and_then(|r| r.child("Text"))
            .map(|t| t.trimmed_text().to_string())
            .unwrap_or_default();
        Self {
            code,
            subcode,
            reason,
        }
    }
}

const ALL_SUBCODES: [FaultSubcode; 15] = [
    FaultSubcode::MalformedMessage,
    FaultSubcode::ForbiddenDtd,
    FaultSubcode::MessageTooLarge,
    FaultSubcode::MissingHeader,
    FaultSubcode::WrongNamespace,
    FaultSubcode::UnknownFunction,
    FaultSubcode::ActionMismatch,
    FaultSubcode::InvalidBody,
    FaultSubcode::UnknownCaller,
    FaultSubcode::InvalidSecurity,
    FaultSubcode::UnsupportedAlgorithm,
    FaultSubcode::FailedAuthentication,
    FaultSubcode::FailedCheck,
    FaultSubcode::MessageExpired,
    FaultSubcode::InternalError,
];

impl Envelope {
    /// Parses an envelope. Every refusal is a [`Fault`] ready to send.
    pub fn parse(text: &str, limits: &Limits) -> Result<Self, Fault> {
        let root = Element::parse_with(text, limits).map_err(|e| match e {
            XmlError::Doctype | XmlError::UndefinedEntity(_) => {
                Fault::sender(FaultSubcode::ForbiddenDtd, format!("refused: {e}"))
            }
            XmlError::TooLarge { .. } => {
                Fault::sender(FaultSubcode::MessageTooLarge, e.to_string())
            }
            other => Fault::sender(FaultSubcode::MalformedMessage, other.to_string()),
        })?;
        Self::from_element(root)
    }

    /// Interprets a parsed document as an envelope.
    pub fn from_element(root: Element) -> Result<Self, Fault> {
        if root.name == "Envelope" && root.ns.as_deref() == Some(SOAP11_NS) {
            return Err(Fault {
                code: FaultCode::VersionMismatch,
                subcode: None,
                reason: "SOAP 1.1 envelopes are not accepted: use SOAP 1.2".into(),
            });
        }
        if !root.is(SOAP12_NS, "Envelope") {
            return Err(Fault::sender(
                FaultSubcode::MalformedMessage,
                format!(
                    "root element is {{{}}}{}, not a SOAP 1.2 Envelope",
                    root.ns.as_deref().unwrap_or(""),
                    root.name
                ),
            ));
        }
        let mut addressing = Addressing::default();
        let mut other_headers = Vec::new();
        let mut body = None;
        let mut seen_body = false;
        for part in root.children {
            match (part.ns.as_deref(), part.name.as_str()) {
                (Some(SOAP12_NS), "Header") if !seen_body => {
                    for h in part.children {
                        let is_wsa = matches!(h.ns.as_deref(), Some(WSA_NS) | Some(WSA_NJIWA_NS));
                        if !is_wsa {
                            if h.attribute_ns(SOAP12_NS, "mustUnderstand")
                                .is_some_and(|v| v == "true" || v == "1")
                                && !understood_header(&h)
                            {
                                return Err(Fault {
                                    code: FaultCode::MustUnderstand,
                                    subcode: None,
                                    reason: format!(
                                        "header {{{}}}{} is not understood",
                                        h.ns.as_deref().unwrap_or(""),
                                        h.name
                                    ),
                                });
                            }
                            other_headers.push(h);
                            continue;
                        }
                        let text = || h.trimmed_text().to_string();
                        let epr = || {
                            EndpointReference::new(
                                h.child("Address")
                                    .map(|a| a.trimmed_text().to_string())
                                    .unwrap_or_default(),
                            )
                        };
                        match h.name.as_str() {
                            "To" => addressing.to = Some(text()),
                            "From" => addressing.from = Some(epr()),
                            "ReplyTo" => addressing.reply_to = Some(epr()),
                            "MessageID" => addressing.message_id = Some(text()),
                            "Action" => addressing.action = Some(text()),
                            "RelatesTo" => addressing.relates_to = Some(text()),
                            _ => other_headers.push(h),
                        }
                    }
                }
                (Some(SOAP12_NS), "Body") if !seen_body => {
                    seen_body = true;
                    let mut children = part.children.into_iter();
                    body = children.next();
                    if children.next().is_some() {
                        return Err(Fault::sender(
                            FaultSubcode::MalformedMessage,
                            "the Body must hold exactly one element (document/literal)",
                        ));
                    }
                }
                _ => {
                    return Err(Fault::sender(
                        FaultSubcode::MalformedMessage,
                        format!("unexpected {} in the Envelope", part.name),
                    ));
                }
            }
        }
        if !seen_body {
            return Err(Fault::sender(
                FaultSubcode::MalformedMessage,
                "the Envelope has no Body",
            ));
        }
        Ok(Self {
            addressing,
            other_headers,
            body,
        })
    }

    /// The body element if it is a `env:Fault`.
    pub fn fault(&self) -> Option<Fault> {
        self.body
            .as_ref()
            .filter(|b| b.is(SOAP12_NS, "Fault"))
            .map(Fault::from_element)
    }

    /// Serialises an envelope.
    pub fn to_xml(&self) -> String {
        write_envelope(
            &self.addressing,
            &self.other_headers,
            self.body.as_ref(),
            &[],
        )
    }
}

/// Headers rsp processes itself even when they are not WS-Addressing: `wsse:Security` is always understood
/// (C-31); whether it is verified depends on the WS-Security policy of the service.
fn understood_header(h: &Element) -> bool {
    h.is(WSSE_NS, "Security")
}

impl Envelope {
    /// Whether the envelope carries a `wsse:Security` header.
    pub fn has_security_header(&self) -> bool {
        self.other_headers.iter().any(|h| h.is(WSSE_NS, "Security"))
    }
}

fn write_envelope(
    addressing: &Addressing,
    other_headers: &[Element],
    body: Option<&Element>,
    extra_ns: &[(&str, &str)],
) -> String {
    let mut header = Element::new(Some(SOAP12_NS), "Header");
    let text = |name: &str, v: &str| Element::new(Some(WSA_NS), name).with_text(v.to_string());
    let epr = |name: &str, e: &EndpointReference| {
        Element::new(Some(WSA_NS), name).with_child(text("Address", &e.address))
    };
    if let Some(v) = &addressing.to {
        header.children.push(text("To", v));
    }
    if let Some(v) = &addressing.from {
        header.children.push(epr("From", v));
    }
    if let Some(v) = &addressing.reply_to {
        header.children.push(epr("ReplyTo", v));
    }
    if let Some(v) = &addressing.message_id {
        header.children.push(text("MessageID", v));
    }
    if let Some(v) = &addressing.action {
        header.children.push(text("Action", v));
    }
    if let Some(v) = &addressing.relates_to {
        header
            .children
            .push(text("RelatesTo", v).with_attribute("RelationshipType", WSA_REPLY));
    }
    header.children.extend(other_headers.iter().cloned());
    let mut env = Element::new(Some(SOAP12_NS), "Envelope").with_child(header);
    let mut b = Element::new(Some(SOAP12_NS), "Body");
    if let Some(el) = body {
        b.children.push(el.clone());
    }
    env.children.push(b);
    // Prefixes used inside QName-valued text (fault codes) are declared on the root element.
    for (p, uri) in extra_ns {
        if *p != "env" {
            env = env.with_attribute(format!("xmlns:{p}"), *uri);
        }
    }
    let mut xml = String::with_capacity(2048);
    xml.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>");
    xml.push_str(&env.to_xml());
    xml
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(header: &str, body: &str) -> String {
        format!(
            "<s:Envelope xmlns:s=\"{SOAP12_NS}\" xmlns:a=\"{WSA_NS}\"><s:Header>{header}</s:Header><s:Body>{body}</s:Body></s:Envelope>"
        )
    }

    #[test]
    fn parses_addressing_and_body() {
        let text = env(
            "<a:To>https://smsr/es4</a:To><a:From><a:Address>https://op?EntityId=1.2.3&amp;EntityName=Op</a:Address></a:From>\
             <a:ReplyTo><a:Address>https://op/cb</a:Address></a:ReplyTo><a:MessageID>urn:uuid:1</a:MessageID>\
             <a:Action>http://gsma.com/ES4/ProfileManagement/ES4-EnableProfileRequest</a:Action>",
            "<r:ES4-EnableProfileRequest xmlns:r=\"http://namespaces.gsma.org/esim-messaging/3\"/>",
        );
        let e = Envelope::parse(&text, &Limits::default()).unwrap();
        assert_eq!(e.addressing.to.as_deref(), Some("https://smsr/es4"));
        assert_eq!(
            e.addressing
                .from
                .as_ref()
                .unwrap()
                .entity_id()
                .unwrap()
                .to_string(),
            "1.2.3"
        );
        assert_eq!(
            e.addressing.reply_to.as_ref().unwrap().address,
            "https://op/cb"
        );
        assert_eq!(e.addressing.message_id.as_deref(), Some("urn:uuid:1"));
        assert_eq!(e.body.as_ref().unwrap().name, "ES4-EnableProfileRequest");
        // Round trip.
        let again = Envelope::parse(&e.to_xml(), &Limits::default()).unwrap();
        assert_eq!(again, e);
    }

    #[test]
    fn entity_id_with_question_mark_separators() {
        let epr = EndpointReference::new(
            "http://rsp.kpnthings.com?EntityId=1.3.6.1.4.1.6886?EntityName=KPN",
        );
        assert_eq!(epr.entity_id().unwrap().to_string(), "1.3.6.1.4.1.6886");
        assert_eq!(epr.base(), "http://rsp.kpnthings.com");
        assert!(EndpointReference::new(WSA_ANONYMOUS).is_anonymous());
    }

    #[test]
    fn refusals_are_faults() {
        let soap11 = "<e:Envelope xmlns:e=\"http://schemas.xmlsoap.org/soap/envelope/\"><e:Body/></e:Envelope>";
        assert_eq!(
            Envelope::parse(soap11, &Limits::default())
                .unwrap_err()
                .code,
            FaultCode::VersionMismatch
        );
        let not_env = "<x/>";
        assert_eq!(
            Envelope::parse(not_env, &Limits::default())
                .unwrap_err()
                .subcode,
            Some(FaultSubcode::MalformedMessage)
        );
        let dtd = "<!DOCTYPE x [<!ENTITY a \"b\">]><x/>";
        assert_eq!(
            Envelope::parse(dtd, &Limits::default())
                .unwrap_err()
                .subcode,
            Some(FaultSubcode::ForbiddenDtd)
        );
        let two = env("", "<a/><b/>");
        assert!(Envelope::parse(&two, &Limits::default()).is_err());
        let mu = env(
            "<x:Sec xmlns:x=\"urn:x\" s:mustUnderstand=\"true\"/>",
            "<a/>",
        );
        assert_eq!(
            Envelope::parse(&mu, &Limits::default()).unwrap_err().code,
            FaultCode::MustUnderstand
        );
        let no_body = format!("<s:Envelope xmlns:s=\"{SOAP12_NS}\"/>");
        assert!(Envelope::parse(&no_body, &Limits::default()).is_err());
    }

    #[test]
    fn security_header_is_understood_and_faults_use_wsse_codes() {
        let text = env(
            &format!("<w:Security xmlns:w=\"{WSSE_NS}\" s:mustUnderstand=\"true\"/>"),
            "<a/>",
        );
        let e = Envelope::parse(&text, &Limits::default()).unwrap();
        assert!(e.has_security_header());
        let f = Fault::sender(FaultSubcode::FailedCheck, "signature does not verify");
        let xml = f.to_envelope_xml(None);
        assert!(xml.contains(">wsse:FailedCheck<"), "{xml}");
        assert!(xml.contains(&format!("xmlns:wsse=\"{WSSE_NS}\"")), "{xml}");
        assert_eq!(
            Envelope::parse(&xml, &Limits::default()).unwrap().fault(),
            Some(f)
        );
    }

    #[test]
    fn fault_envelope_round_trips() {
        let f = Fault::sender(FaultSubcode::UnknownFunction, "no function ES4-Nope");
        let xml = f.to_envelope_xml(Some("urn:uuid:9"));
        let e = Envelope::parse(&xml, &Limits::default()).unwrap();
        assert_eq!(e.addressing.relates_to.as_deref(), Some("urn:uuid:9"));
        assert_eq!(e.fault(), Some(f));
        assert!(xml.contains("xmlns:rspf="), "{xml}");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// Arbitrary bytes never panic the envelope parser or the dispatcher.
        #[test]
        fn arbitrary_text_never_panics(text in ".{0,400}") {
            if let Ok(env) = Envelope::parse(&text, &Limits::default()) {
                let _ = crate::dispatch::classify(env, None);
            }
        }

        /// Mutations of a valid envelope never panic either (they reach deeper code than random text).
        #[test]
        fn mutated_envelopes_never_panic(pos in 0usize..600, byte in any::<u8>(), cut in 0usize..600) {
            let valid = format!(
                "<e:Envelope xmlns:e=\"{SOAP12_NS}\" xmlns:a=\"{WSA_NS}\"><e:Header><a:To>t</a:To>\
                 <a:From><a:Address>https://x?EntityId=2.999.20</a:Address></a:From><a:MessageID>m</a:MessageID>\
                 <a:Action>http://gsma.com/ES4/ProfileManagement/ES4-EnableProfileRequest</a:Action></e:Header>\
                 <e:Body><r:ES4-EnableProfileRequest xmlns:r=\"http://namespaces.gsma.org/esim-messaging/3\">\
                 <r:FunctionCallIdentifier>f</r:FunctionCallIdentifier><r:Eid>89049032123451234512345678901235</r:Eid>\
                 <r:Iccid>89000123456789012341</r:Iccid></r:ES4-EnableProfileRequest></e:Body></e:Envelope>"
            );
            let mut bytes = valid.into_bytes();
            let p = pos % bytes.len();
            bytes[p] = byte;
            bytes.truncate(cut.max(1).min(bytes.len()));
            let text = String::from_utf8_lossy(&bytes);
            if let Ok(env) = Envelope::parse(&text, &Limits::default()) {
                let _ = crate::dispatch::classify(env, None);
            }
        }
    }
}
