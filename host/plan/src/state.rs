//! A client's planning state in 24 bytes (the planner keeps one per client of the base):
//! the days of the window with a contact, the status of its decision, whether one of
//! its proposals was refused and why, and from the history store the days before the
//! window with a contact and the days of the window an earlier plan already booked. The bit layout stays inside this type.
use crate::decide::Status;

const STATUS_SHIFT: u32 = 56;
const DAYS_MASK: u64 = (1 << STATUS_SHIFT) - 1;
const PRIOR_MASK: u64 = (1 << crate::config::MAX_DAYS) - 1;
const STATUS_MASK: u64 = 0b111 << STATUS_SHIFT;
const CAPACITY_REFUSED: u64 = 1 << 60;
const LIMIT_REFUSED: u64 = 1 << 61;
const CAP_REFUSED: u64 = 1 << 62;

// Every day of the longest window has a bit below the status.
const _: () = assert!(crate::config::MAX_DAYS <= STATUS_SHIFT);

/// One client's state during allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState(u64, u64, u64);

/// Why a client got no contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// In the `no_contact` arm.
    NoContact,
    NoChannelConsent,
    NoEligibleOffer,
    /// Proposals existed, but their channels were full.
    ChannelCapacity,
    /// Proposals existed, but the budget, an offer's volume or share limit, or the
    /// optimiser's prices (the capacity was worth more to other clients) left them out.
    PlanLimits,
    /// Proposals existed, but the client's contact history left no room under the
    /// bundle's caps or the plan's `max_contacts`.
    ContactPressure,
    /// Proposals existed and channels had room, but no day was free (gap, quiet days).
    NoSendDay,
}

impl Reason {
    /// The reason as written in `uncontacted.csv` and the summary.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NoContact => "no_contact",
            Reason::NoChannelConsent => "no_channel_consent",
            Reason::NoEligibleOffer => "no_eligible_offer",
            Reason::ChannelCapacity => "channel_capacity",
            Reason::PlanLimits => "plan_limits",
            Reason::ContactPressure => "contact_pressure",
            Reason::NoSendDay => "no_send_day",
        }
    }
}

impl ClientState {
    /// A decided client, no contact yet.
    pub fn new(status: Status) -> ClientState {
        let bits = match status {
            Status::Candidates => 0u64,
            Status::NoContact => 1,
            Status::NoChannelConsent => 2,
            Status::NoEligibleOffer => 3,
        };
        ClientState(bits << STATUS_SHIFT, 0, 0)
    }

    /// Marks the days before the window with a contact on a planned channel: bit `j` is
    /// day `j - 56` of the window (bit 55 the day before it).
    pub fn with_prior(mut self, prior: u64) -> ClientState {
        self.1 = prior & PRIOR_MASK;
        self
    }

    /// Marks days of the window already holding a send of an earlier plan.
    pub fn with_booked(mut self, booked: u64) -> ClientState {
        self.2 = booked & DAYS_MASK;
        self
    }

    /// Days of the window with a contact, this plan's or an earlier one's.
    pub fn occupied(self) -> u64 {
        self.days() | self.2
    }

    /// Days before the window with a contact (bit 55: the day before the window).
    pub fn prior(self) -> u64 {
        self.1
    }

    /// The decision's status.
    pub fn status(self) -> Status {
        match (self.0 & STATUS_MASK) >> STATUS_SHIFT {
            1 => Status::NoContact,
            2 => Status::NoChannelConsent,
            3 => Status::NoEligibleOffer,
            _ => Status::Candidates,
        }
    }

    /// Days of the window with a contact, one bit per day.
    pub fn days(self) -> u64 {
        self.0 & DAYS_MASK
    }

    /// Books a contact on `day` (`day < MAX_DAYS`).
    pub fn contact_on(&mut self, day: u32) {
        self.0 |= (1u64.checked_shl(day).unwrap_or(0)) & DAYS_MASK;
    }

    /// Takes back the contact on `day`.
    pub fn cancel(&mut self, day: u32) {
        self.0 &= !((1u64.checked_shl(day).unwrap_or(0)) & DAYS_MASK);
    }

    /// Notes that a proposal was refused because its channel was full.
    pub fn refused_for_capacity(&mut self) {
        self.0 |= CAPACITY_REFUSED;
    }

    /// Notes that a proposal was refused by the budget, a volume or share limit, or prices.
    pub fn refused_for_limits(&mut self) {
        self.0 |= LIMIT_REFUSED;
    }

    /// Notes that a proposal was refused by the client's contact history.
    pub fn refused_for_pressure(&mut self) {
        self.0 |= CAP_REFUSED;
    }

    /// Why the client got no contact, or `None` if it got one.
    pub fn uncontacted(self) -> Option<Reason> {
        if self.days() != 0 {
            return None;
        }
        Some(match self.status() {
            Status::NoContact => Reason::NoContact,
            Status::NoChannelConsent => Reason::NoChannelConsent,
            Status::NoEligibleOffer => Reason::NoEligibleOffer,
            Status::Candidates if self.0 & CAPACITY_REFUSED != 0 => Reason::ChannelCapacity,
            Status::Candidates if self.0 & LIMIT_REFUSED != 0 => Reason::PlanLimits,
            Status::Candidates if self.0 & CAP_REFUSED != 0 => Reason::ContactPressure,
            Status::Candidates => Reason::NoSendDay,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_days_and_reasons_do_not_collide() {
        for status in [Status::Candidates, Status::NoContact, Status::NoChannelConsent, Status::NoEligibleOffer] {
            let mut s = ClientState::new(status);
            assert_eq!((s.status(), s.days()), (status, 0));
            s.refused_for_capacity();
            assert_eq!(s.status(), status);
            for day in [0, 13, crate::config::MAX_DAYS - 1] {
                s.contact_on(day);
            }
            assert_eq!((s.status(), s.days().count_ones(), s.uncontacted()), (status, 3, None));
            assert_eq!(s.days(), 1 | 1 << 13 | 1 << (crate::config::MAX_DAYS - 1));
        }
        let mut full = ClientState::new(Status::Candidates);
        assert_eq!(full.uncontacted(), Some(Reason::NoSendDay));
        full.refused_for_capacity();
        assert_eq!(full.uncontacted(), Some(Reason::ChannelCapacity));
        assert_eq!(ClientState::new(Status::NoContact).uncontacted().map(Reason::as_str), Some("no_contact"));
        // A day past the mask never touches the status.
        let mut s = ClientState::new(Status::NoEligibleOffer);
        s.contact_on(STATUS_SHIFT);
        assert_eq!((s.status(), s.days()), (Status::NoEligibleOffer, 0));
    }
}
