//! Serde support for types whose wire form is their `Display` / `FromStr` text.

/// Implements `Serialize` (via `Display`) and `Deserialize` (via `FromStr`) for a type.
macro_rules! serde_via_str {
    ($t:ty, $expecting:expr) => {
        impl ::serde::Serialize for $t {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $t {
            fn deserialize<D: ::serde::Deserializer<'de>>(
                deserializer: D,
            ) -> Result<Self, D::Error> {
                struct StrVisitor;
                impl ::serde::de::Visitor<'_> for StrVisitor {
                    type Value = $t;
                    fn expecting(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$t, E> {
                        v.parse::<$t>().map_err(E::custom)
                    }
                }
                deserializer.deserialize_str(StrVisitor)
            }
        }
    };
}

pub(crate) use serde_via_str;
