//! Typed XML bodies declared once: each type knows its element names, order, cardinality and XSD type.
//!
//! [`xml_type!`](crate::xml_type) declares a complex type as a Rust struct. From that one declaration come the
//! struct, its encoder (children in declared order, in the message namespace), its decoder (lenient: any order,
//! unknown elements ignored, namespace not checked at this level) and its schema ([`ComplexSchema`]) from which
//! the XSD is generated. Simple types (EID, ICCID, AID, OID, dates, hexBinary, …) implement [`XmlItem`] through
//! [`simple_type!`](crate::simple_type).

use std::borrow::Cow;

use crate::xml::Element;

/// Where a field's value comes from in XSD terms.
#[derive(Debug, Clone, Copy)]
pub enum TypeRef {
    /// A simple type: (name in our schema or `xs:` built-in, its definition).
    Simple(&'static SimpleSchema),
    /// A complex type declared with `xml_type!`.
    Complex(fn() -> &'static ComplexSchema),
}

/// A simple type of the message schema.
#[derive(Debug, PartialEq, Eq)]
pub struct SimpleSchema {
    /// Type name, e.g. `EIDType`, or `xs:boolean` for a built-in.
    pub name: &'static str,
    /// XSD restriction: (base, facets as `(facet, value)`), empty for built-ins.
    pub base: &'static str,
    /// Facets of the restriction.
    pub facets: &'static [(&'static str, &'static str)],
}

impl SimpleSchema {
    /// True for `xs:` built-in types (not declared in our schema).
    pub fn is_builtin(&self) -> bool {
        self.name.starts_with("xs:")
    }
}

/// One element of a complex type's sequence.
#[derive(Debug, Clone, Copy)]
pub struct FieldSchema {
    /// Element local name.
    pub name: &'static str,
    /// Its type.
    pub ty: TypeRef,
    /// minOccurs.
    pub min: u32,
    /// maxOccurs (None = unbounded).
    pub max: Option<u32>,
}

/// A complex type: a sequence of elements, optionally extending a base type.
#[derive(Debug)]
pub struct ComplexSchema {
    /// Type name in the schema (e.g. `ES4-EnableProfileRequestType`).
    pub name: &'static str,
    /// The base type this one extends (its fields come first on the wire).
    pub base: Option<fn() -> &'static ComplexSchema>,
    /// Own fields, in wire order.
    pub fields: &'static [FieldSchema],
    /// One-line description.
    pub doc: &'static str,
}

impl TypeRef {
    /// The type's name in the schema (`EIDType`, `xs:boolean`, `ES4-EnableProfileRequestType`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Simple(s) => s.name,
            Self::Complex(c) => c().name,
        }
    }
}

impl ComplexSchema {
    /// All fields including the base type's, in wire order.
    pub fn all_fields(&self) -> Vec<FieldSchema> {
        let mut v = self.base.map(|b| b().all_fields()).unwrap_or_default();
        v.extend_from_slice(self.fields);
        v
    }
}

/// A body element failed to decode.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// A mandatory element is missing.
    #[error("missing mandatory element {path}")]
    Missing {
        /// Slash-separated path of the element.
        path: String,
    },
    /// An element occurs more often than allowed.
    #[error("element {path} occurs {count} times (at most {max} allowed)")]
    TooMany {
        /// Path.
        path: String,
        /// How often it occurs.
        count: usize,
        /// The maximum.
        max: u32,
    },
    /// An element's value is not valid for its type.
    #[error("invalid value of {path}: {message}")]
    Invalid {
        /// Path.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The body element is not the expected one.
    #[error("unexpected body element {found}, expected {expected}")]
    UnexpectedElement {
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },
}

impl DecodeError {
    fn prefixed(self, parent: &str) -> Self {
        let join = |p: String| {
            if p.is_empty() {
                parent.to_string()
            } else {
                format!("{parent}/{p}")
            }
        };
        match self {
            Self::Missing { path } => Self::Missing { path: join(path) },
            Self::TooMany { path, count, max } => Self::TooMany {
                path: join(path),
                count,
                max,
            },
            Self::Invalid { path, message } => Self::Invalid {
                path: join(path),
                message,
            },
            other => other,
        }
    }

    /// The element path the error refers to (for status code data).
    pub fn path(&self) -> &str {
        match self {
            Self::Missing { path } | Self::TooMany { path, .. } | Self::Invalid { path, .. } => {
                path
            }
            Self::UnexpectedElement { found, .. } => found,
        }
    }
}

/// A single value that is one XML element: a simple type (text) or a complex type (children).
pub trait XmlItem: Sized {
    /// Its schema type.
    fn type_ref() -> TypeRef;
    /// Writes `self` as the element `{ns}name`.
    fn to_element(&self, ns: &str, name: &str) -> Element;
    /// Reads `self` from an element (whose name was already matched).
    fn from_element(el: &Element) -> Result<Self, DecodeError>;
}

/// A simple value carried as element text.
pub trait XmlText: Sized {
    /// Its schema type.
    const SCHEMA: &'static SimpleSchema;
    /// Text form.
    fn to_text(&self) -> Cow<'_, str>;
    /// Parses the (trimmed) text.
    fn from_text(text: &str) -> Result<Self, String>;
}

/// A field of a complex type: one item, an optional item or a list of items.
pub trait XmlField: Sized {
    /// minOccurs.
    const MIN: u32;
    /// maxOccurs (None = unbounded).
    const MAX: Option<u32>;
    /// The item type.
    fn type_ref() -> TypeRef;
    /// Appends the field's elements to `parent`.
    fn write(&self, ns: &str, name: &str, parent: &mut Element);
    /// Reads the field from the elements named `name` among `parent`'s children.
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError>;
}

fn matching<'a>(parent: &'a Element, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
    parent.children.iter().filter(move |c| c.name == name)
}

impl<T: XmlItem> XmlField for T {
    const MIN: u32 = 1;
    const MAX: Option<u32> = Some(1);
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn write(&self, ns: &str, name: &str, parent: &mut Element) {
        parent.children.push(self.to_element(ns, name));
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        let mut it = matching(parent, name);
        let first = it.next().ok_or_else(|| DecodeError::Missing {
            path: name.to_string(),
        })?;
        let extra = it.count();
        if extra > 0 {
            return Err(DecodeError::TooMany {
                path: name.to_string(),
                count: extra + 1,
                max: 1,
            });
        }
        T::from_element(first).map_err(|e| e.prefixed(name))
    }
}

impl<T: XmlItem> XmlField for Option<T> {
    const MIN: u32 = 0;
    const MAX: Option<u32> = Some(1);
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn write(&self, ns: &str, name: &str, parent: &mut Element) {
        if let Some(v) = self {
            parent.children.push(v.to_element(ns, name));
        }
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        let mut it = matching(parent, name);
        let Some(first) = it.next() else {
            return Ok(None);
        };
        let extra = it.count();
        if extra > 0 {
            return Err(DecodeError::TooMany {
                path: name.to_string(),
                count: extra + 1,
                max: 1,
            });
        }
        T::from_element(first)
            .map(Some)
            .map_err(|e| e.prefixed(name))
    }
}

impl<T: XmlItem> XmlField for Vec<T> {
    const MIN: u32 = 0;
    const MAX: Option<u32> = None;
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn write(&self, ns: &str, name: &str, parent: &mut Element) {
        for v in self {
            parent.children.push(v.to_element(ns, name));
        }
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        matching(parent, name)
            .enumerate()
            .map(|(i, el)| T::from_element(el).map_err(|e| e.prefixed(&format!("{name}[{i}]"))))
            .collect()
    }
}

/// A list that must hold at least one item (`maxOccurs="unbounded"`, `minOccurs="1"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NonEmpty<T>(pub Vec<T>);

impl<T: XmlItem> XmlField for NonEmpty<T> {
    const MIN: u32 = 1;
    const MAX: Option<u32> = None;
    fn type_ref() -> TypeRef {
        T::type_ref()
    }
    fn write(&self, ns: &str, name: &str, parent: &mut Element) {
        self.0.write(ns, name, parent);
    }
    fn read(parent: &Element, name: &str) -> Result<Self, DecodeError> {
        let v = Vec::<T>::read(parent, name)?;
        if v.is_empty() {
            return Err(DecodeError::Missing {
                path: name.to_string(),
            });
        }
        Ok(Self(v))
    }
}

impl<T: XmlText> XmlItem for T {
    fn type_ref() -> TypeRef {
        TypeRef::Simple(T::SCHEMA)
    }
    fn to_element(&self, ns: &str, name: &str) -> Element {
        Element::new(Some(ns), name).with_text(self.to_text().into_owned())
    }
    fn from_element(el: &Element) -> Result<Self, DecodeError> {
        T::from_text(el.trimmed_text()).map_err(|message| DecodeError::Invalid {
            path: String::new(),
            message,
        })
    }
}

/// Implemented by `xml_type!` structs: their schema and field-wise codec.
pub trait XmlComplex: Sized {
    /// The schema of this type.
    fn schema() -> &'static ComplexSchema;
    /// Appends this value's fields (base first) to `el`.
    fn write_fields(&self, ns: &str, el: &mut Element);
    /// Reads this value's fields (base first) from `el`.
    fn read_fields(el: &Element) -> Result<Self, DecodeError>;
}

/// Declares a simple type carried as element text.
///
/// `simple_type!(Rust type, "SchemaTypeName", base "xs:string", facets [("pattern", "...")], to_text |v| ..., from_text |s| ...)`
#[macro_export]
macro_rules! simple_type {
    ($ty:ty, $name:literal, $base:literal, [$(($facet:literal, $value:literal)),* $(,)?], |$v:ident| $to:expr, |$s:ident| $from:expr) => {
        impl $crate::schema::XmlText for $ty {
            const SCHEMA: &'static $crate::schema::SimpleSchema = &$crate::schema::SimpleSchema {
                name: $name,
                base: $base,
                facets: &[$(($facet, $value)),*],
            };
            fn to_text(&self) -> ::std::borrow::Cow<'_, str> {
                let $v = self;
                $to
            }
            fn from_text($s: &str) -> Result<Self, String> {
                $from
            }
        }
    };
}

/// Declares an SGP.02 complex type once: struct, XML codec and schema.
///
/// ```ignore
/// xml_type! {
///     /// ES4 EnableProfile request.
///     pub struct Es4EnableProfileRequest = "ES4-EnableProfileRequestType" : BaseRequest {
///         /// The eUICC.
///         eid: Eid = "Eid",
///         iccid: Iccid = "Iccid",
///     }
/// }
/// ```
/// With `: Base`, the struct gets a field `base: Base` whose elements come first on the wire and the XSD
/// type is an extension of the base type.
#[macro_export]
macro_rules! xml_type {
    (
        $(#[doc = $doc:literal])*
        pub struct $name:ident = $xsd:literal $(: $base:ident)? {
            $(
                $(#[doc = $fdoc:literal])*
                $field:ident : $fty:ty = $el:literal
            ),* $(,)?
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq)]
        pub struct $name {
            $(
                /// Base type fields (first on the wire).
                pub base: $base,
            )?
            $(
                $(#[doc = $fdoc])*
                #[doc = concat!("\n\nElement `", $el, "`.")]
                pub $field: $fty,
            )*
        }

        impl $crate::schema::XmlComplex for $name {
            fn schema() -> &'static $crate::schema::ComplexSchema {
                static SCHEMA: ::std::sync::OnceLock<$crate::schema::ComplexSchema> = ::std::sync::OnceLock::new();
                SCHEMA.get_or_init(|| {
                    static FIELDS: ::std::sync::OnceLock<Vec<$crate::schema::FieldSchema>> = ::std::sync::OnceLock::new();
                    let fields = FIELDS.get_or_init(|| vec![
                        $(
                            $crate::schema::FieldSchema {
                                name: $el,
                                ty: <$fty as $crate::schema::XmlField>::type_ref(),
                                min: <$fty as $crate::schema::XmlField>::MIN,
                                max: <$fty as $crate::schema::XmlField>::MAX,
                            },
                        )*
                    ]);
                    $crate::schema::ComplexSchema {
                        name: $xsd,
                        base: $crate::xml_type!(@base $($base)?),
                        fields: fields.as_slice(),
                        doc: concat!($($doc),*),
                    }
                })
            }

            #[allow(unused_variables)]
            fn write_fields(&self, ns: &str, el: &mut $crate::xml::Element) {
                $( <$base as $crate::schema::XmlComplex>::write_fields(&self.base, ns, el); )?
                $( <$fty as $crate::schema::XmlField>::write(&self.$field, ns, $el, el); )*
            }

            #[allow(unused_variables)]
            fn read_fields(el: &$crate::xml::Element) -> Result<Self, $crate::schema::DecodeError> {
                Ok(Self {
                    $( base: <$base as $crate::schema::XmlComplex>::read_fields(el)?, )?
                    $( $field: <$fty as $crate::schema::XmlField>::read(el, $el)?, )*
                })
            }
        }

        impl $crate::schema::XmlItem for $name {
            fn type_ref() -> $crate::schema::TypeRef {
                $crate::schema::TypeRef::Complex(<$name as $crate::schema::XmlComplex>::schema)
            }
            fn to_element(&self, ns: &str, name: &str) -> $crate::xml::Element {
                let mut el = $crate::xml::Element::new(Some(ns), name);
                <$name as $crate::schema::XmlComplex>::write_fields(self, ns, &mut el);
                el
            }
            fn from_element(el: &$crate::xml::Element) -> Result<Self, $crate::schema::DecodeError> {
                <$name as $crate::schema::XmlComplex>::read_fields(el)
            }
        }
    };
    (@base $base:ident) => { Some(<$base as $crate::schema::XmlComplex>::schema) };
    (@base) => { None };
}
