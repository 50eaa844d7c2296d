//! The SGP.02 function catalogue: every ES1, ES2, ES3, ES4, ES4A and ES7 function declared once.
//!
//! [`catalogue!`](crate::catalogue) takes one line per function and derives from it:
//! - a marker type per function implementing [`Function`] (typed request and response bodies), used by typed
//!   clients and handlers;
//! - [`FunctionId`], an enum of all functions, and [`CATALOGUE`], their [`FunctionInfo`] in declaration order;
//! - [`RequestBody`] and [`ResponseBody`], enums over every body with one decoder that dispatches on the body
//!   element name, and one encoder;
//! - everything the SOAP layer and the WSDL/XSD generator need (element names, Action URIs, roles).
//!
//! Adding a function is one line in `functions.rs` plus its body types.

use rsp_types::Role;

use crate::functions::FunctionId;
use crate::schema::ComplexSchema;

/// The six off-card interfaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub enum Interface {
    /// EUM → SM-SR.
    Es1,
    /// Operator → SM-DP.
    Es2,
    /// SM-DP → SM-SR.
    Es3,
    /// Operator / M2M SP → SM-SR.
    Es4,
    /// Operator → SM-SR (PLMA and ONC).
    Es4a,
    /// SM-SR ↔ SM-SR.
    Es7,
}

impl Interface {
    /// All interfaces, in order.
    pub const ALL: [Self; 6] = [
        Self::Es1,
        Self::Es2,
        Self::Es3,
        Self::Es4,
        Self::Es4a,
        Self::Es7,
    ];

    /// `ES1` … `ES4A`, `ES7` as used in element names and Action URIs.
    pub fn name(self) -> &'static str {
        match self {
            Self::Es1 => "ES1",
            Self::Es2 => "ES2",
            Self::Es3 => "ES3",
            Self::Es4 => "ES4",
            Self::Es4a => "ES4A",
            Self::Es7 => "ES7",
        }
    }

    /// Lower-case path segment: `es1` … `es4a`, `es7`.
    pub fn path(self) -> &'static str {
        match self {
            Self::Es1 => "es1",
            Self::Es2 => "es2",
            Self::Es3 => "es3",
            Self::Es4 => "es4",
            Self::Es4a => "es4a",
            Self::Es7 => "es7",
        }
    }

    /// Parses `es4`, `ES4`, `es4a` …
    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|i| i.path().eq_ignore_ascii_case(s))
    }
}

impl std::fmt::Display for Interface {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// How a function is exchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
pub enum Pattern {
    /// Request-response completing in the same HTTP exchange.
    RequestResponse,
    /// Request-response whose result may come later: a request with a non-anonymous `ReplyTo` is acknowledged
    /// with HTTP 202 and the response is sent to `ReplyTo` as its own request (`RelatesTo` = the MessageID).
    AsyncRequestResponse,
    /// One-way notification (a handler on the receiving side).
    Notification,
}

impl Pattern {
    /// Short text for tables and JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestResponse => "request-response",
            Self::AsyncRequestResponse => "async-request-response",
            Self::Notification => "notification",
        }
    }
}

/// Everything known about one function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionInfo {
    /// Its identifier.
    pub id: FunctionId,
    /// The interface.
    pub interface: Interface,
    /// The function name as in SGP.02 (`EnableProfile`, `HandleProfileEnabledNotification`).
    pub name: &'static str,
    /// Exchange pattern.
    pub pattern: Pattern,
    /// Roles allowed to call it (for notifications: to send it).
    pub callers: &'static [Role],
    /// The role that serves it (for notifications: that receives it).
    pub provider: &'static [Role],
    /// Action URI group (`ProfileManagement`, `eUICCManagement`, …).
    pub group: &'static str,
    /// SGP.02 v4.2 section, or the source of a reconstructed entry.
    pub section: &'static str,
    /// Request (or notification) body schema.
    pub request_schema: fn() -> &'static ComplexSchema,
    /// Response body schema (None for notifications).
    pub response_schema: Option<fn() -> &'static ComplexSchema>,
}

impl FunctionInfo {
    /// Request (or notification) body element: `ES4-EnableProfileRequest`, `ES4-HandleProfileEnabledNotification`.
    pub fn request_element(&self) -> String {
        match self.pattern {
            Pattern::Notification => format!("{}-{}", self.interface.name(), self.name),
            _ => format!("{}-{}Request", self.interface.name(), self.name),
        }
    }

    /// Response body element: `ES4-EnableProfileResponse` (None for notifications).
    pub fn response_element(&self) -> Option<String> {
        match self.pattern {
            Pattern::Notification => None,
            _ => Some(format!("{}-{}Response", self.interface.name(), self.name)),
        }
    }

    /// Action URI of the request or notification (C-13): `http://gsma.com/ES4/ProfileManagement/ES4-EnableProfile`.
    pub fn request_action(&self) -> String {
        format!(
            "http://gsma.com/{}/{}/{}-{}",
            self.interface.name(),
            self.group,
            self.interface.name(),
            self.name
        )
    }

    /// Action URI of a synchronous response: the request's Action + `Response`.
    pub fn response_action(&self) -> Option<String> {
        self.response_element()
            .map(|_| format!("{}Response", self.request_action()))
    }

    /// Action URI of an asynchronous response sent to `ReplyTo` (C-13): the `…CallBack` group,
    /// `http://gsma.com/ES4/ProfileManagementCallBack/ES4-EnableProfile`.
    pub fn callback_action(&self) -> Option<String> {
        self.response_element().map(|_| {
            format!(
                "http://gsma.com/{}/{}CallBack/{}-{}",
                self.interface.name(),
                self.group,
                self.interface.name(),
                self.name
            )
        })
    }

    /// Whether `role` may call (or send) this function.
    pub fn allows(&self, role: Role) -> bool {
        self.callers.contains(&role)
    }

    /// `ES4.EnableProfile`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}", self.interface.name(), self.name)
    }
}

/// A function with typed bodies (implemented by the marker types the catalogue generates).
pub trait Function {
    /// Its identifier.
    const ID: FunctionId;
    /// Request or notification body.
    type Request: crate::schema::XmlComplex + Clone + std::fmt::Debug + Send + 'static;
    /// Response body (`NoResponse` for notifications).
    type Response: crate::schema::XmlComplex + Clone + std::fmt::Debug + Send + 'static;

    /// The catalogue entry.
    fn info() -> &'static FunctionInfo {
        Self::ID.info()
    }
}

crate::xml_type! {
    /// Placeholder response type of notifications (they have none).
    pub struct NoResponse = "NoResponseType" {}
}

/// Declares the catalogue. One line per function:
///
/// `Marker: Interface, "Name", Pattern, callers [roles], provider [roles], "Group", "section", Request, Response;`
///
/// For notifications the response type is `NoResponse`.
#[macro_export]
macro_rules! catalogue {
    (
        $(
            $(#[doc = $doc:literal])*
            $marker:ident : $iface:ident, $name:literal, $pattern:ident,
                callers [$($caller:ident),* $(,)?], provider [$($prov:ident),* $(,)?],
                $group:literal, $section:literal, $req:ty, $resp:ty;
        )*
    ) => {
        /// Identifies one catalogue function.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum FunctionId {
            $(
                $(#[doc = $doc])*
                $marker,
            )*
        }

        /// Every function, in declaration order.
        pub static CATALOGUE: &[$crate::catalogue::FunctionInfo] = &[
            $(
                $crate::catalogue::FunctionInfo {
                    id: FunctionId::$marker,
                    interface: $crate::catalogue::Interface::$iface,
                    name: $name,
                    pattern: $crate::catalogue::Pattern::$pattern,
                    callers: &[$(::rsp_types::Role::$caller),*],
                    provider: &[$(::rsp_types::Role::$prov),*],
                    group: $group,
                    section: $section,
                    request_schema: <$req as $crate::schema::XmlComplex>::schema,
                    response_schema: $crate::catalogue!(@resp_schema $pattern, $resp),
                },
            )*
        ];

        impl FunctionId {
            /// The catalogue entry of this function.
            pub fn info(self) -> &'static $crate::catalogue::FunctionInfo {
                // Declaration order equals discriminant order.
                &CATALOGUE[self as usize]
            }
        }

        /// Marker types, one per function, carrying the typed bodies.
        pub mod fns {
            use super::*;
            $(
                $(#[doc = $doc])*
                #[derive(Debug, Clone, Copy)]
                pub struct $marker;
                impl $crate::catalogue::Function for $marker {
                    const ID: FunctionId = FunctionId::$marker;
                    type Request = $req;
                    type Response = $resp;
                }
            )*
        }

        /// Any request or notification body.
        #[derive(Debug, Clone, PartialEq)]
        pub enum RequestBody {
            $(
                $(#[doc = $doc])*
                $marker(Box<$req>),
            )*
        }

        /// Any response body (notifications have none).
        #[derive(Debug, Clone, PartialEq)]
        pub enum ResponseBody {
            $(
                $(#[doc = $doc])*
                $marker(Box<$resp>),
            )*
        }

        impl RequestBody {
            /// The function this body belongs to.
            pub fn function(&self) -> FunctionId {
                match self { $( Self::$marker(_) => FunctionId::$marker, )* }
            }

            /// Decodes the body of `function` from its element (whose name the caller already matched).
            pub fn decode(function: FunctionId, el: &$crate::xml::Element) -> Result<Self, $crate::schema::DecodeError> {
                match function {
                    $( FunctionId::$marker => Ok(Self::$marker(Box::new(
                        <$req as $crate::schema::XmlItem>::from_element(el)?,
                    ))), )*
                }
            }

            /// Encodes the body as its element in namespace `ns`.
            pub fn encode(&self, ns: &str) -> $crate::xml::Element {
                match self {
                    $( Self::$marker(b) => <$req as $crate::schema::XmlItem>::to_element(b, ns, &FunctionId::$marker.info().request_element()), )*
                }
            }
        }

        impl ResponseBody {
            /// The function this body belongs to.
            pub fn function(&self) -> FunctionId {
                match self { $( Self::$marker(_) => FunctionId::$marker, )* }
            }

            /// Decodes the response body of `function`.
            pub fn decode(function: FunctionId, el: &$crate::xml::Element) -> Result<Self, $crate::schema::DecodeError> {
                match function {
                    $( FunctionId::$marker => Ok(Self::$marker(Box::new(
                        <$resp as $crate::schema::XmlItem>::from_element(el)?,
                    ))), )*
                }
            }

            /// Encodes the body as its element in namespace `ns` (notifications encode an empty placeholder).
            pub fn encode(&self, ns: &str) -> $crate::xml::Element {
                match self {
                    $( Self::$marker(b) => {
                        let info = FunctionId::$marker.info();
                        let name = info.response_element().unwrap_or_else(|| format!("{}Ack", info.request_element()));
                        <$resp as $crate::schema::XmlItem>::to_element(b, ns, &name)
                    } )*
                }
            }
        }

        /// Moves typed bodies in and out of the body enums (implemented for every marker type).
        pub trait Bodies: $crate::catalogue::Function {
            /// Wraps a typed request.
            fn wrap_request(r: Self::Request) -> RequestBody;
            /// Wraps a typed response.
            fn wrap_response(r: Self::Response) -> ResponseBody;
            /// Unwraps a request of this function.
            fn unwrap_request(b: RequestBody) -> Option<Self::Request>;
            /// Unwraps a response of this function.
            fn unwrap_response(b: ResponseBody) -> Option<Self::Response>;
        }

        $(
            impl Bodies for fns::$marker {
                fn wrap_request(r: $req) -> RequestBody { RequestBody::$marker(Box::new(r)) }
                fn wrap_response(r: $resp) -> ResponseBody { ResponseBody::$marker(Box::new(r)) }
                #[allow(unreachable_patterns)]
                fn unwrap_request(b: RequestBody) -> Option<$req> {
                    match b { RequestBody::$marker(r) => Some(*r), _ => None }
                }
                #[allow(unreachable_patterns)]
                fn unwrap_response(b: ResponseBody) -> Option<$resp> {
                    match b { ResponseBody::$marker(r) => Some(*r), _ => None }
                }
            }
        )*
    };
    (@resp_schema Notification, $resp:ty) => { None };
    (@resp_schema $other:ident, $resp:ty) => { Some(<$resp as $crate::schema::XmlComplex>::schema) };
}
