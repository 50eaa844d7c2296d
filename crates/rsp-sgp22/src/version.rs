//! SGP.22 feature-support tags (§1.9) as data: [`Gate`], [`Feature`], and the [`Profile`] of a peer.
//!
//! Protocol code never compares version numbers itself: it asks a field's [`Gate`] whether the
//! peer's [`Profile`] may receive it ([`Gate::allows`]) or must receive it ([`Gate::requires`]).

use std::fmt;

use rsp_types::Svn;

/// SGP.22 v3.0.0, the first version with the v3 capability carriers.
pub const V3_0_0: Svn = Svn::new(3, 0, 0);

/// Highest version treated as "v2" when a peer sends no v3 capability carrier.
pub const V2_MAX: Svn = Svn::new(2, 255, 255);

/// An optional SGP.22 feature named by a `#SupportedFor<Feature>V3.X.Y#` tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feature {
    /// Remote Profile Management, `#SupportedForRpmV3.X.Y#`.
    Rpm,
    /// Enterprise profiles, `#SupportedForEnterpriseV3.X.Y#`.
    Enterprise,
    /// LPA Proxy / PCM, `#SupportedForLpaProxyV3.X.Y#`.
    LpaProxy,
    /// Device Change and Profile Recovery, `#SupportedForDcV3.X.Y#`.
    DeviceChange,
    /// Event Checking, `#SupportedForEventCheckingV3.X.Y#`.
    EventChecking,
    /// Push Service, `#SupportedForPushServiceV3.X.Y#`.
    PushService,
    /// Multiple Enabled Profiles, `#SupportedForMEPV3.X.Y#`.
    Mep,
}

impl Feature {
    /// Every feature, in declaration order.
    pub const ALL: [Feature; 7] = [
        Feature::Rpm,
        Feature::Enterprise,
        Feature::LpaProxy,
        Feature::DeviceChange,
        Feature::EventChecking,
        Feature::PushService,
        Feature::Mep,
    ];

    /// The feature's name inside the spec tag (`Rpm`, `Dc`, `MEP`, ...).
    pub const fn tag_name(self) -> &'static str {
        match self {
            Feature::Rpm => "Rpm",
            Feature::Enterprise => "Enterprise",
            Feature::LpaProxy => "LpaProxy",
            Feature::DeviceChange => "Dc",
            Feature::EventChecking => "EventChecking",
            Feature::PushService => "PushService",
            Feature::Mep => "MEP",
        }
    }

    const fn mask(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Feature {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.tag_name())
    }
}

/// A set of [`Feature`]s.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct FeatureSet(u16);

impl FeatureSet {
    /// No feature.
    pub const EMPTY: FeatureSet = FeatureSet(0);

    /// Every feature.
    pub const fn all() -> FeatureSet {
        let mut m = 0;
        let mut i = 0;
        while i < Feature::ALL.len() {
            m |= Feature::ALL[i].mask();
            i += 1;
        }
        FeatureSet(m)
    }

    /// The set holding `features`.
    pub const fn of(features: &[Feature]) -> FeatureSet {
        let mut m = 0;
        let mut i = 0;
        while i < features.len() {
            m |= features[i].mask();
            i += 1;
        }
        FeatureSet(m)
    }

    /// Whether `feature` is in the set.
    pub const fn contains(self, feature: Feature) -> bool {
        self.0 & feature.mask() != 0
    }

    /// Adds `feature`.
    pub fn insert(&mut self, feature: Feature) {
        self.0 |= feature.mask();
    }

    /// Removes `feature`.
    pub fn remove(&mut self, feature: Feature) {
        self.0 &= !feature.mask();
    }

    /// Features in both sets.
    pub const fn intersection(self, other: FeatureSet) -> FeatureSet {
        FeatureSet(self.0 & other.0)
    }

    /// Features in either set.
    pub const fn union(self, other: FeatureSet) -> FeatureSet {
        FeatureSet(self.0 | other.0)
    }

    /// Whether the set is empty.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The features in the set, in declaration order.
    pub fn iter(self) -> impl Iterator<Item = Feature> {
        Feature::ALL.into_iter().filter(move |f| self.contains(*f))
    }
}

impl fmt::Debug for FeatureSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl FromIterator<Feature> for FeatureSet {
    fn from_iter<I: IntoIterator<Item = Feature>>(iter: I) -> FeatureSet {
        let mut s = FeatureSet::EMPTY;
        for f in iter {
            s.insert(f);
        }
        s
    }
}

/// What a peer may receive: the SGP.22 version it declared and the features both sides declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Profile {
    /// The version the encoder writes for.
    pub svn: Svn,
    /// The features in use with this peer.
    pub features: FeatureSet,
}

impl Profile {
    /// A profile with `svn` and no optional feature.
    pub const fn new(svn: Svn) -> Profile {
        Profile {
            svn,
            features: FeatureSet::EMPTY,
        }
    }

    /// This profile with `features`.
    pub const fn with_features(self, features: FeatureSet) -> Profile {
        Profile {
            svn: self.svn,
            features,
        }
    }

    /// Whether the peer declares at least v3.0.0.
    pub fn is_v3(&self) -> bool {
        self.svn >= V3_0_0
    }
}

/// When an element may or must be sent, one value per SGP.22 feature-support tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gate {
    /// No tag: the element exists in every version (`#SupportedFromV2.X.Y#` for the v2 baseline).
    Always,
    /// `#SupportedFromVX.Y.Z#`: must not be sent to a receiver that declares a lower version.
    SupportedFrom(Svn),
    /// `#SupportedOnlyBeforeVX.Y.Z#`: must not be sent to a receiver that declares this version or higher.
    SupportedOnlyBefore(Svn),
    /// `#MandatoryFromVX.Y.Z#`: always present for a receiver at this version or higher; not sent
    /// to lower versions.
    MandatoryFrom(Svn),
    /// `#SupportedFor<Feature>VX.Y.Z#`: sent only when the feature is in use and the receiver
    /// declares at least this version.
    SupportedFor(Feature, Svn),
}

impl Gate {
    /// Whether an element with this gate may be sent to `peer`.
    pub fn allows(&self, peer: &Profile) -> bool {
        match *self {
            Gate::Always => true,
            Gate::SupportedFrom(v) | Gate::MandatoryFrom(v) => peer.svn >= v,
            Gate::SupportedOnlyBefore(v) => peer.svn < v,
            Gate::SupportedFor(f, v) => peer.svn >= v && peer.features.contains(f),
        }
    }

    /// Whether an element with this gate must be sent to `peer` (only [`Gate::MandatoryFrom`]).
    pub fn requires(&self, peer: &Profile) -> bool {
        match *self {
            Gate::MandatoryFrom(v) => peer.svn >= v,
            _ => false,
        }
    }
}

impl fmt::Display for Gate {
    /// The spec tag, e.g. `#SupportedFromV3.0.0#`, `#SupportedForRpmV3.0.0#`; `Always` prints `-`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Gate::Always => f.write_str("-"),
            Gate::SupportedFrom(v) => write!(f, "#SupportedFromV{v}#"),
            Gate::SupportedOnlyBefore(v) => write!(f, "#SupportedOnlyBeforeV{v}#"),
            Gate::MandatoryFrom(v) => write!(f, "#MandatoryFromV{v}#"),
            Gate::SupportedFor(feat, v) => write!(f, "#SupportedFor{feat}V{v}#"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const V2_2_2: Svn = Svn::new(2, 2, 2);
    const V3_1_0: Svn = Svn::new(3, 1, 0);

    #[test]
    fn gate_matrix() {
        let v2 = Profile::new(V2_2_2);
        let v3 = Profile::new(V3_1_0);
        let v3_rpm = v3.with_features(FeatureSet::of(&[Feature::Rpm]));
        let cases: [(Gate, [(bool, bool); 3]); 6] = [
            (Gate::Always, [(true, false), (true, false), (true, false)]),
            (
                Gate::SupportedFrom(V3_0_0),
                [(false, false), (true, false), (true, false)],
            ),
            (
                Gate::SupportedOnlyBefore(V3_0_0),
                [(true, false), (false, false), (false, false)],
            ),
            (
                Gate::MandatoryFrom(V3_0_0),
                [(false, false), (true, true), (true, true)],
            ),
            (
                Gate::SupportedFor(Feature::Rpm, V3_0_0),
                [(false, false), (false, false), (true, false)],
            ),
            (
                Gate::SupportedFrom(Svn::new(3, 1, 1)),
                [(false, false), (false, false), (false, false)],
            ),
        ];
        for (gate, expected) in cases {
            for (peer, (allows, requires)) in [v2, v3, v3_rpm].iter().zip(expected) {
                assert_eq!(gate.allows(peer), allows, "{gate} allows {peer:?}");
                assert_eq!(gate.requires(peer), requires, "{gate} requires {peer:?}");
            }
        }
    }

    #[test]
    fn feature_gate_needs_version_too() {
        let v2_with_rpm = Profile::new(V2_2_2).with_features(FeatureSet::all());
        assert!(!Gate::SupportedFor(Feature::Rpm, V3_0_0).allows(&v2_with_rpm));
    }

    #[test]
    fn gate_display_uses_spec_tags() {
        assert_eq!(
            Gate::SupportedFor(Feature::DeviceChange, V3_0_0).to_string(),
            "#SupportedForDcV3.0.0#"
        );
        assert_eq!(
            Gate::MandatoryFrom(V3_1_0).to_string(),
            "#MandatoryFromV3.1.0#"
        );
        assert_eq!(
            Gate::SupportedOnlyBefore(V3_0_0).to_string(),
            "#SupportedOnlyBeforeV3.0.0#"
        );
    }

    #[test]
    fn feature_set_ops() {
        let a = FeatureSet::of(&[Feature::Rpm, Feature::Mep]);
        let b = FeatureSet::of(&[Feature::Mep, Feature::PushService]);
        assert_eq!(a.intersection(b), FeatureSet::of(&[Feature::Mep]));
        assert_eq!(a.union(b).iter().count(), 3);
        assert_eq!(FeatureSet::all().iter().count(), Feature::ALL.len());
        let mut c = a;
        c.remove(Feature::Rpm);
        assert!(!c.contains(Feature::Rpm) && c.contains(Feature::Mep));
        assert!(FeatureSet::EMPTY.is_empty());
    }
}
