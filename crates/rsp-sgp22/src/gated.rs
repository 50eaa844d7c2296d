//! [`der_sequence!`](crate::der_sequence): declare an SGP.22 DER SEQUENCE once, with a context tag,
//! optionality and a [`Gate`] per field.
//!
//! The macro generates:
//! - the struct (`req` fields are `T`, `opt` fields `Option<T>`, plus `unknown_tags` recording
//!   every element the decoder skipped);
//! - a tolerant decoder ([`DerValue::decode_value`](crate::der::DerValue) and `decode` for the
//!   universal `30` form) that accepts every field of every version, refuses duplicates and a
//!   missing `req` field, and skips unknown tags (ASN.1 extensibility);
//! - ONE encoder, `encode(&self, peer: &Profile)`, writing fields in declaration (tag) order,
//!   dropping those the peer may not receive and failing with
//!   [`EncodeError::MissingMandatory`](crate::der::EncodeError) when a `#MandatoryFromV…#` field
//!   is absent for that peer;
//! - `check_gates(&self, peer)`, the second phase of two-phase gating on received messages;
//! - `FIELDS` (name, tag number, optionality, gate) and `present_fields()`.
//!
//! A field is written `name [n]: req T => gate`: `[n]` is an IMPLICIT context tag (the
//! constructed bit comes from [`DerValue::CONSTRUCTED`](crate::der::DerValue)); `[n explicit]`,
//! `(0x5F37)` (a fixed tag) and `(own)` (the type's own tag) are the other forms, see
//! [`der_sequence!`](crate::der_sequence). [`der_choice!`](crate::der_choice) declares a CHOICE.
//!
//! ```
//! use rsp_sgp22::der_sequence;
//! use rsp_sgp22::version::{Feature, Gate, Profile, V3_0_0};
//! use rsp_types::Svn;
//!
//! der_sequence! {
//!     /// Example.
//!     pub struct Example = "Example" {
//!         /// Always sent.
//!         id [0]: req Vec<u8> => Gate::Always,
//!         /// Sent to v3 peers only, and required for them.
//!         v3_only [1]: opt bool => Gate::MandatoryFrom(V3_0_0),
//!         /// Sent only when RPM is in use.
//!         rpm [2]: opt Vec<u8> => Gate::SupportedFor(Feature::Rpm, V3_0_0),
//!     }
//! }
//!
//! let m = Example { id: vec![7], v3_only: Some(true), rpm: Some(vec![1]), unknown_tags: vec![] };
//! assert_eq!(m.encode(&Profile::new(Svn::new(2, 2, 2))).ok(), Some(vec![0x30, 0x03, 0x80, 0x01, 0x07]));
//! assert_eq!(
//!     m.encode(&Profile::new(Svn::new(3, 1, 0))).ok(),
//!     Some(vec![0x30, 0x06, 0x80, 0x01, 0x07, 0x81, 0x01, 0xFF])
//! );
//! let back = Example::decode(&[0x30, 0x06, 0x80, 0x01, 0x07, 0x81, 0x01, 0xFF]);
//! assert_eq!(back.map(|e| e.v3_only).ok(), Some(Some(true)));
//! ```

use crate::version::Gate;

/// How a field is tagged inside its SEQUENCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tagging {
    /// `[n]`: IMPLICIT context tag `n` (constructed if the type is).
    Implicit(u32),
    /// `[n explicit]`: EXPLICIT context tag `n` around the type's own TLV (CHOICE fields).
    Explicit(u32),
    /// `(0x5F37)`: a fixed IMPLICIT tag (APPLICATION, PRIVATE or universal class).
    Fixed(u32),
    /// `(own)`: the type's own tag (universal types, tagged SEQUENCEs, untagged CHOICEs).
    Own,
}

/// Static description of one field of a gated SEQUENCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// Rust field name.
    pub name: &'static str,
    /// How the field is tagged.
    pub tagging: Tagging,
    /// Whether the field is OPTIONAL.
    pub optional: bool,
    /// The field's feature-support gate.
    pub gate: Gate,
}

/// Static description of one alternative of a gated CHOICE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlternativeInfo {
    /// Rust variant name.
    pub name: &'static str,
    /// How the alternative is tagged.
    pub tagging: Tagging,
    /// The alternative's feature-support gate.
    pub gate: Gate,
}

/// Declares a gated DER SEQUENCE; see the [module documentation](crate::gated).
///
/// Field tag forms: `[n]` IMPLICIT context tag, `[n explicit]` EXPLICIT context tag around the
/// type's own TLV, `(0x5F37)` a fixed IMPLICIT tag, `(own)` the type's own tag ([`DerTlv`]).
/// An optional `tag 0xBF39` after the ASN.1 name gives the SEQUENCE its own tag (default `30`).
/// Fields are matched by tag in declaration order: two fields with the same tag (e.g. two
/// `Certificate`s) are filled in order.
///
/// [`DerTlv`]: crate::der::DerTlv
#[macro_export]
macro_rules! der_sequence {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident = $asn:literal $(tag $otag:literal)? {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident $tagspec:tt : $kind:ident $ty:ty => $gate:expr
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                #[doc = concat!("\n\nTag `", stringify!($tagspec), "`, gate `", stringify!($gate), "`.")]
                pub $field: $crate::der_sequence!(@fty $kind $ty),
            )*
            /// Tags of the elements the decoder did not know and skipped (empty when built locally).
            pub unknown_tags: ::std::vec::Vec<$crate::__tlv::Tag>,
        }

        impl $name {
            /// The SEQUENCE's own tag value.
            pub const OUTER_TAG: u32 = $crate::der_sequence!(@otag $($otag)?);

            /// ASN.1 name, tagging, optionality and gate of every field, in declaration order.
            pub const FIELDS: &'static [$crate::gated::FieldInfo] = &[
                $(
                    $crate::gated::FieldInfo {
                        name: stringify!($field),
                        tagging: $crate::der_sequence!(@tagging $tagspec),
                        optional: $crate::der_sequence!(@optional $kind),
                        gate: $gate,
                    },
                )*
            ];

            /// Names of the fields that are present.
            #[allow(unused_mut)]
            pub fn present_fields(&self) -> ::std::vec::Vec<&'static str> {
                let mut v = ::std::vec::Vec::new();
                $(
                    if $crate::der_sequence!(@present $kind self.$field).is_some() {
                        v.push(stringify!($field));
                    }
                )*
                v
            }

            /// Decodes the SEQUENCE with its own tag; the input must hold exactly one object.
            pub fn decode(der: &[u8]) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                <Self as $crate::der::DerTlv>::from_der(der)
            }

            /// Encodes the SEQUENCE with its own tag for `peer`.
            pub fn encode(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::der::EncodeError> {
                <Self as $crate::der::DerTlv>::to_der(self, peer)
            }

            /// Checks the gates of a received message against the sender's profile.
            pub fn check_gates_for(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<(), $crate::der::GateViolation> {
                <Self as $crate::der::DerValue>::check_gates(self, peer)
            }
        }

        impl $crate::der::DerTlv for $name {
            const TLV_NAME: &'static str = $asn;
            fn matches(tag: $crate::__tlv::Tag) -> bool {
                tag.value() == Self::OUTER_TAG
            }
            fn single_tag() -> ::std::option::Option<$crate::__tlv::Tag> {
                $crate::__tlv::Tag::from_u32(Self::OUTER_TAG).ok()
            }
            fn decode_tlv(
                _tag: $crate::__tlv::Tag,
                content: &[u8],
                _raw: &[u8],
            ) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                <Self as $crate::der::DerValue>::decode_value(content)
            }
            fn encode_tlv(
                &self,
                peer: &$crate::version::Profile,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<(), $crate::der::EncodeError> {
                let mut content = ::std::vec::Vec::new();
                <Self as $crate::der::DerValue>::encode_value(self, peer, &mut content)?;
                let tag = $crate::__tlv::Tag::from_u32(Self::OUTER_TAG)?;
                $crate::__tlv::encode_tlv(tag, &content, out)?;
                Ok(())
            }
            fn check_tlv_gates(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<(), $crate::der::GateViolation> {
                <Self as $crate::der::DerValue>::check_gates(self, peer)
            }
        }

        impl $crate::der::DerValue for $name {
            const TYPE_NAME: &'static str = $asn;
            const CONSTRUCTED: bool = true;

            #[allow(unused_labels)]
            fn decode_value(content: &[u8]) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                $( let mut $field: ::std::option::Option<$ty> = None; )*
                let mut unknown_tags = ::std::vec::Vec::new();
                'item: for item in $crate::__tlv::iter(content) {
                    let item = item
                        .map_err(|source| $crate::der::DecodeError::Tlv { in_type: $asn, source })?;
                    $(
                        if $field.is_none() && $crate::der_sequence!(@matches $tagspec $ty, item.tag, $asn) {
                            $field = Some($crate::der_sequence!(@decode $tagspec $ty, item, $asn)?);
                            continue 'item;
                        }
                    )*
                    $(
                        if $crate::der_sequence!(@matches $tagspec $ty, item.tag, $asn) {
                            return Err($crate::der::DecodeError::Duplicate {
                                in_type: $asn,
                                field: stringify!($field),
                                tag: item.tag,
                            });
                        }
                    )*
                    unknown_tags.push(item.tag);
                }
                Ok($name {
                    $( $field: $crate::der_sequence!(@finish $kind $field $asn), )*
                    unknown_tags,
                })
            }

            #[allow(unused_variables)]
            fn encode_value(
                &self,
                peer: &$crate::version::Profile,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<(), $crate::der::EncodeError> {
                $(
                    let gate: $crate::version::Gate = $gate;
                    match $crate::der_sequence!(@present $kind self.$field) {
                        Some(v) if gate.allows(peer) => {
                            $crate::der_sequence!(@encode $tagspec $ty, v, peer, out, $asn);
                        }
                        None if gate.requires(peer) => {
                            return Err($crate::der::EncodeError::MissingMandatory {
                                in_type: $asn,
                                field: stringify!($field),
                                svn: peer.svn,
                            });
                        }
                        _ => {}
                    }
                )*
                Ok(())
            }

            #[allow(unused_variables)]
            fn check_gates(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<(), $crate::der::GateViolation> {
                $(
                    let gate: $crate::version::Gate = $gate;
                    match $crate::der_sequence!(@present $kind self.$field) {
                        Some(v) if gate.allows(peer) => {
                            $crate::der_sequence!(@check $tagspec $ty, v, peer);
                        }
                        Some(_) => {
                            return Err($crate::der::GateViolation::FieldNotAllowed {
                                in_type: $asn,
                                field: stringify!($field),
                                svn: peer.svn,
                            });
                        }
                        None if gate.requires(peer) => {
                            return Err($crate::der::GateViolation::MissingMandatory {
                                in_type: $asn,
                                field: stringify!($field),
                                svn: peer.svn,
                            });
                        }
                        None => {}
                    }
                )*
                Ok(())
            }
        }
    };
    (@otag) => { 0x30 };
    (@otag $t:literal) => { $t };
    (@fty req $ty:ty) => { $ty };
    (@fty opt $ty:ty) => { ::std::option::Option<$ty> };
    (@optional req) => { false };
    (@optional opt) => { true };
    (@present req $e:expr) => { ::std::option::Option::Some(&$e) };
    (@present opt $e:expr) => { $e.as_ref() };
    (@tagging [$n:literal]) => { $crate::gated::Tagging::Implicit($n) };
    (@tagging [$n:literal explicit]) => { $crate::gated::Tagging::Explicit($n) };
    (@tagging (own)) => { $crate::gated::Tagging::Own };
    (@tagging ($t:literal)) => { $crate::gated::Tagging::Fixed($t) };
    (@matches [$n:literal] $ty:ty, $tag:expr, $asn:literal) => {
        $crate::der::field_tag::<$ty>($n, $asn).is_ok_and(|t| t == $tag)
    };
    (@matches [$n:literal explicit] $ty:ty, $tag:expr, $asn:literal) => {
        $crate::der::is_explicit_tag($tag, $n)
    };
    (@matches (own) $ty:ty, $tag:expr, $asn:literal) => {
        <$ty as $crate::der::DerTlv>::matches($tag)
    };
    (@matches ($t:literal) $ty:ty, $tag:expr, $asn:literal) => {
        $tag.value() == $t
    };
    (@decode [$n:literal] $ty:ty, $item:ident, $asn:literal) => {
        <$ty as $crate::der::DerValue>::decode_value($item.value)
    };
    (@decode [$n:literal explicit] $ty:ty, $item:ident, $asn:literal) => {
        $crate::der::decode_explicit::<$ty>($item.value)
    };
    (@decode (own) $ty:ty, $item:ident, $asn:literal) => {
        <$ty as $crate::der::DerTlv>::decode_tlv($item.tag, $item.value, $item.raw())
    };
    (@decode ($t:literal) $ty:ty, $item:ident, $asn:literal) => {
        <$ty as $crate::der::DerValue>::decode_value($item.value)
    };
    (@encode [$n:literal] $ty:ty, $v:ident, $peer:ident, $out:ident, $asn:literal) => {{
        let tag = $crate::der::field_tag::<$ty>($n, $asn)
            .map_err(|_| $crate::__tlv::TlvError::InvalidTag { value: $n })?;
        let mut scratch = ::std::vec::Vec::new();
        <$ty as $crate::der::DerValue>::encode_value($v, $peer, &mut scratch)?;
        $crate::__tlv::encode_tlv(tag, &scratch, $out)?;
    }};
    (@encode [$n:literal explicit] $ty:ty, $v:ident, $peer:ident, $out:ident, $asn:literal) => {{
        let tag = $crate::der::context_tag($n, true)?;
        let mut scratch = ::std::vec::Vec::new();
        <$ty as $crate::der::DerTlv>::encode_tlv($v, $peer, &mut scratch)?;
        $crate::__tlv::encode_tlv(tag, &scratch, $out)?;
    }};
    (@encode (own) $ty:ty, $v:ident, $peer:ident, $out:ident, $asn:literal) => {{
        <$ty as $crate::der::DerTlv>::encode_tlv($v, $peer, $out)?;
    }};
    (@encode ($t:literal) $ty:ty, $v:ident, $peer:ident, $out:ident, $asn:literal) => {{
        let tag = $crate::__tlv::Tag::from_u32($t)?;
        let mut scratch = ::std::vec::Vec::new();
        <$ty as $crate::der::DerValue>::encode_value($v, $peer, &mut scratch)?;
        $crate::__tlv::encode_tlv(tag, &scratch, $out)?;
    }};
    (@check [$n:literal] $ty:ty, $v:ident, $peer:ident) => {
        <$ty as $crate::der::DerValue>::check_gates($v, $peer)?
    };
    (@check ($t:literal) $ty:ty, $v:ident, $peer:ident) => {
        <$ty as $crate::der::DerValue>::check_gates($v, $peer)?
    };
    (@check [$n:literal explicit] $ty:ty, $v:ident, $peer:ident) => {
        <$ty as $crate::der::DerTlv>::check_tlv_gates($v, $peer)?
    };
    (@check (own) $ty:ty, $v:ident, $peer:ident) => {
        <$ty as $crate::der::DerTlv>::check_tlv_gates($v, $peer)?
    };
    (@finish req $field:ident $asn:literal) => {
        match $field {
            Some(v) => v,
            None => {
                return Err($crate::der::DecodeError::Missing {
                    in_type: $asn,
                    field: stringify!($field),
                })
            }
        }
    };
    (@finish opt $field:ident $asn:literal) => { $field };
}

/// Declares a gated DER CHOICE as an enum.
///
/// Alternative tag forms as in [`der_sequence!`](crate::der_sequence): `[n]` (IMPLICIT context
/// tag on the alternative's content), `(0x4F)` (fixed tag), `(own)` (the alternative type's own
/// tag). With `tag 0xBF38` after the ASN.1 name the CHOICE itself is tagged (EXPLICIT, as ASN.1
/// requires for a tagged CHOICE): the chosen alternative's TLV sits inside that tag.
/// The one encoder refuses an alternative whose gate does not allow the peer
/// ([`EncodeError::AlternativeNotAllowed`](crate::der::EncodeError)).
#[macro_export]
macro_rules! der_choice {
    (
        $(#[doc = $doc:literal])*
        pub enum $name:ident = $asn:literal $(tag $otag:literal)? {
            $(
                $(#[doc = $adoc:literal])*
                $alt:ident $tagspec:tt ( $ty:ty ) => $gate:expr
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        #[allow(clippy::large_enum_variant)] // messages are built once per exchange, never in bulk
        pub enum $name {
            $(
                $(#[doc = $adoc])*
                #[doc = concat!("\n\nTag `", stringify!($tagspec), "`, gate `", stringify!($gate), "`.")]
                $alt($ty),
            )*
        }

        impl $name {
            /// Name, tagging and gate of every alternative.
            pub const ALTERNATIVES: &'static [$crate::gated::AlternativeInfo] = &[
                $(
                    $crate::gated::AlternativeInfo {
                        name: stringify!($alt),
                        tagging: $crate::der_sequence!(@tagging $tagspec),
                        gate: $gate,
                    },
                )*
            ];

            /// The chosen alternative's name.
            pub fn alternative(&self) -> &'static str {
                match self {
                    $( $name::$alt(_) => stringify!($alt), )*
                }
            }

            /// Decodes one TLV; the input must hold exactly one object.
            pub fn decode(der: &[u8]) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                <Self as $crate::der::DerTlv>::from_der(der)
            }

            /// Encodes for `peer`.
            pub fn encode(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::der::EncodeError> {
                <Self as $crate::der::DerTlv>::to_der(self, peer)
            }

            /// Whether `tag` is the tag of one of the alternatives.
            pub fn matches_alternative(tag: $crate::__tlv::Tag) -> bool {
                $( $crate::der_sequence!(@matches $tagspec $ty, tag, $asn) || )* false
            }

            fn decode_alternative(
                tag: $crate::__tlv::Tag,
                content: &[u8],
                raw: &[u8],
            ) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                let item = $crate::der::TlvParts { tag, value: content };
                let _ = raw;
                $(
                    if $crate::der_sequence!(@matches $tagspec $ty, tag, $asn) {
                        return Ok($name::$alt($crate::der_choice!(@decode $tagspec $ty, item, raw, $asn)?));
                    }
                )*
                let _ = item;
                Err($crate::der::DecodeError::BadValue {
                    in_type: $asn,
                    reason: "unknown CHOICE alternative",
                })
            }

            fn encode_alternative(
                &self,
                peer: &$crate::version::Profile,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<(), $crate::der::EncodeError> {
                match self {
                    $(
                        $name::$alt(v) => {
                            let gate: $crate::version::Gate = $gate;
                            if !gate.allows(peer) {
                                return Err($crate::der::EncodeError::AlternativeNotAllowed {
                                    in_type: $asn,
                                    alternative: stringify!($alt),
                                    svn: peer.svn,
                                });
                            }
                            $crate::der_sequence!(@encode $tagspec $ty, v, peer, out, $asn);
                        }
                    )*
                }
                Ok(())
            }
        }

        impl $crate::der::DerTlv for $name {
            const TLV_NAME: &'static str = $asn;
            fn matches(tag: $crate::__tlv::Tag) -> bool {
                $crate::der_choice!(@matches_outer $name, tag $(, $otag)?)
            }
            fn decode_tlv(
                tag: $crate::__tlv::Tag,
                content: &[u8],
                raw: &[u8],
            ) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                $crate::der_choice!(@decode_outer $name, $asn, tag, content, raw $(, $otag)?)
            }
            fn encode_tlv(
                &self,
                peer: &$crate::version::Profile,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<(), $crate::der::EncodeError> {
                $crate::der_choice!(@encode_outer self, peer, out $(, $otag)?)
            }
            fn check_tlv_gates(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<(), $crate::der::GateViolation> {
                match self {
                    $(
                        $name::$alt(v) => {
                            let gate: $crate::version::Gate = $gate;
                            if !gate.allows(peer) {
                                return Err($crate::der::GateViolation::FieldNotAllowed {
                                    in_type: $asn,
                                    field: stringify!($alt),
                                    svn: peer.svn,
                                });
                            }
                            $crate::der_sequence!(@check $tagspec $ty, v, peer);
                        }
                    )*
                }
                Ok(())
            }
        }
    };
    (@decode [$n:literal] $ty:ty, $item:ident, $raw:ident, $asn:literal) => {
        <$ty as $crate::der::DerValue>::decode_value($item.value)
    };
    (@decode [$n:literal explicit] $ty:ty, $item:ident, $raw:ident, $asn:literal) => {
        $crate::der::decode_explicit::<$ty>($item.value)
    };
    (@decode ($t:literal) $ty:ty, $item:ident, $raw:ident, $asn:literal) => {
        <$ty as $crate::der::DerValue>::decode_value($item.value)
    };
    (@decode (own) $ty:ty, $item:ident, $raw:ident, $asn:literal) => {
        <$ty as $crate::der::DerTlv>::decode_tlv($item.tag, $item.value, $raw)
    };
    (@matches_outer $name:ident, $tag:ident) => { $name::matches_alternative($tag) };
    (@matches_outer $name:ident, $tag:ident, $otag:literal) => { $tag.value() == $otag };
    (@decode_outer $name:ident, $asn:literal, $tag:ident, $content:ident, $raw:ident) => {
        $name::decode_alternative($tag, $content, $raw)
    };
    (@decode_outer $name:ident, $asn:literal, $tag:ident, $content:ident, $raw:ident, $otag:literal) => {{
        let _ = ($tag, $raw);
        let inner = $crate::__tlv::parse_single($content)
            .map_err(|source| $crate::der::DecodeError::Tlv { in_type: $asn, source })?;
        $name::decode_alternative(inner.tag, inner.value, inner.raw())
    }};
    (@encode_outer $self:ident, $peer:ident, $out:ident) => { $self.encode_alternative($peer, $out) };
    (@encode_outer $self:ident, $peer:ident, $out:ident, $otag:literal) => {{
        let mut inner = ::std::vec::Vec::new();
        $self.encode_alternative($peer, &mut inner)?;
        $crate::__tlv::encode_tlv($crate::__tlv::Tag::from_u32($otag)?, &inner, $out)?;
        Ok(())
    }};
}
