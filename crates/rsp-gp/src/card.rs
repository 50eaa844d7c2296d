//! [`ApduCard`]: a smart card seen from its contact interface, as a reader, a PC/SC bridge
//! (vsmartcard `vpcd`) or an LPA talks to it. The simulated eUICCs implement it; the bridges and
//! LPAs drive it. Pure: no IO, no clock.

/// A card that answers command APDUs (ISO/IEC 7816-4).
pub trait ApduCard: Send {
    /// Cold or warm reset: volatile state (logical channels, open sessions) is dropped. Returns
    /// the Answer To Reset.
    fn reset(&mut self) -> Vec<u8>;

    /// Processes one command APDU and returns the response data followed by SW1 SW2. A malformed
    /// APDU gets an error status word, never a panic.
    fn transmit(&mut self, command: &[u8]) -> Vec<u8>;

    /// Removes power: like [`ApduCard::reset`] without an ATR.
    fn power_off(&mut self) {
        let _ = self.reset();
    }
}

impl<C: ApduCard + ?Sized> ApduCard for Box<C> {
    fn reset(&mut self) -> Vec<u8> {
        (**self).reset()
    }
    fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        (**self).transmit(command)
    }
    fn power_off(&mut self) {
        (**self).power_off()
    }
}
