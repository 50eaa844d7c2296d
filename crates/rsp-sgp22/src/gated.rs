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
//! Fields are IMPLICIT context tags `[n]`; the constructed bit comes from the field type
//! ([`DerValue::CONSTRUCTED`](crate::der::DerValue)).
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
//!         [0] id: req Vec<u8> => Gate::Always,
//!         /// Sent to v3 peers only, and required for them.
//!         [1] v3_only: opt bool => Gate::MandatoryFrom(V3_0_0),
//!         /// Sent only when RPM is in use.
//!         [2] rpm: opt Vec<u8> => Gate::SupportedFor(Feature::Rpm, V3_0_0),
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

/// Static description of one field of a gated SEQUENCE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// Rust field name.
    pub name: &'static str,
    /// Context tag number `[n]`.
    pub tag_number: u32,
    /// Whether the field is OPTIONAL.
    pub optional: bool,
    /// The field's feature-support gate.
    pub gate: Gate,
}

/// Declares a gated DER SEQUENCE; see the [module documentation](crate::gated).
#[macro_export]
macro_rules! der_sequence {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident = $asn:literal {
            $(
                $(#[doc = $fdoc:literal])*
                [$n:literal] $field:ident : $kind:ident $ty:ty => $gate:expr
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub struct $name {
            $(
                $(#[doc = $fdoc])*
                #[doc = concat!("\n\nTag `[", stringify!($n), "]`, gate `", stringify!($gate), "`.")]
                pub $field: $crate::der_sequence!(@fty $kind $ty),
            )*
            /// Tags of the elements the decoder did not know and skipped (empty when built locally).
            pub unknown_tags: ::std::vec::Vec<$crate::__tlv::Tag>,
        }

        impl $name {
            /// ASN.1 name, tag, optionality and gate of every field, in tag order.
            pub const FIELDS: &'static [$crate::gated::FieldInfo] = &[
                $(
                    $crate::gated::FieldInfo {
                        name: stringify!($field),
                        tag_number: $n,
                        optional: $crate::der_sequence!(@optional $kind),
                        gate: $gate,
                    },
                )*
            ];

            /// Names of the fields that are present.
            pub fn present_fields(&self) -> ::std::vec::Vec<&'static str> {
                let mut v = ::std::vec::Vec::new();
                $(
                    if $crate::der_sequence!(@present $kind self.$field).is_some() {
                        v.push(stringify!($field));
                    }
                )*
                v
            }

            /// Decodes the universal SEQUENCE (`30`) form; the input must hold exactly one object.
            pub fn decode(der: &[u8]) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                let tlv = $crate::__tlv::parse_single(der)
                    .map_err(|source| $crate::der::DecodeError::Tlv { in_type: $asn, source })?;
                if tlv.tag != $crate::der::SEQUENCE_TAG {
                    return Err($crate::der::DecodeError::UnexpectedTag {
                        in_type: $asn,
                        expected: $crate::der::SEQUENCE_TAG,
                        got: tlv.tag,
                    });
                }
                <Self as $crate::der::DerValue>::decode_value(tlv.value)
            }

            /// Encodes the universal SEQUENCE (`30`) form for `peer`.
            pub fn encode(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<::std::vec::Vec<u8>, $crate::der::EncodeError> {
                let mut content = ::std::vec::Vec::new();
                <Self as $crate::der::DerValue>::encode_value(self, peer, &mut content)?;
                let mut out = ::std::vec::Vec::new();
                $crate::__tlv::encode_tlv($crate::der::SEQUENCE_TAG, &content, &mut out)?;
                Ok(out)
            }
        }

        impl $crate::der::DerValue for $name {
            const TYPE_NAME: &'static str = $asn;
            const CONSTRUCTED: bool = true;

            fn decode_value(content: &[u8]) -> ::std::result::Result<Self, $crate::der::DecodeError> {
                $( let mut $field: ::std::option::Option<$ty> = None; )*
                let mut unknown_tags = ::std::vec::Vec::new();
                for item in $crate::__tlv::iter(content) {
                    let item = item
                        .map_err(|source| $crate::der::DecodeError::Tlv { in_type: $asn, source })?;
                    $(
                        let tag = $crate::der::field_tag::<$ty>($n, $asn)?;
                        if item.tag == tag {
                            if $field.is_some() {
                                return Err($crate::der::DecodeError::Duplicate {
                                    in_type: $asn,
                                    field: stringify!($field),
                                    tag,
                                });
                            }
                            $field = Some(<$ty as $crate::der::DerValue>::decode_value(item.value)?);
                            continue;
                        }
                    )*
                    unknown_tags.push(item.tag);
                }
                Ok($name {
                    $( $field: $crate::der_sequence!(@finish $kind $field $asn), )*
                    unknown_tags,
                })
            }

            fn encode_value(
                &self,
                peer: &$crate::version::Profile,
                out: &mut ::std::vec::Vec<u8>,
            ) -> ::std::result::Result<(), $crate::der::EncodeError> {
                $(
                    let gate: $crate::version::Gate = $gate;
                    match $crate::der_sequence!(@present $kind self.$field) {
                        Some(v) if gate.allows(peer) => {
                            let tag = $crate::der::field_tag::<$ty>($n, $asn)
                                .map_err(|_| $crate::__tlv::TlvError::InvalidTag { value: $n })?;
                            let mut scratch = ::std::vec::Vec::new();
                            <$ty as $crate::der::DerValue>::encode_value(v, peer, &mut scratch)?;
                            $crate::__tlv::encode_tlv(tag, &scratch, out)?;
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

            fn check_gates(
                &self,
                peer: &$crate::version::Profile,
            ) -> ::std::result::Result<(), $crate::der::GateViolation> {
                $(
                    let gate: $crate::version::Gate = $gate;
                    match $crate::der_sequence!(@present $kind self.$field) {
                        Some(v) if gate.allows(peer) => {
                            <$ty as $crate::der::DerValue>::check_gates(v, peer)?;
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
    (@fty req $ty:ty) => { $ty };
    (@fty opt $ty:ty) => { ::std::option::Option<$ty> };
    (@optional req) => { false };
    (@optional opt) => { true };
    (@present req $e:expr) => { ::std::option::Option::Some(&$e) };
    (@present opt $e:expr) => { $e.as_ref() };
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
