//! A client's planning state in 8 bytes (the planner keeps one per client of the base):
//! the days of the window with a contact, the status of its decision, and whether one of
//! its proposals was refused because the channel was full. The bit layout stays inside
//! this type.
use crate::decide::Status;

const STATUS_SHIFT: u32 = 56;
const DAYS_MASK: u64 = (1 << STATUS_SHIFT) - 1;
const STATUS_MASK: u64 = 0b111 << STATUS_SHIFT;
const CAPACITY_REFUSED: u64 = 1 << 60;

// Every day of the longest window has a bit below the status.
const _: () = assert!(crate::config::MAX_DAYS <= STATUS_SHIFT);

/// One client's state during allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientState(u64);

/// Why a client got no contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// In the `no_contact` arm.
    NoContact,
    NoChannelConsent,
    NoEligibleOffer,
    /// Proposals existed, but their channels were full.
    ChannelCapacity,
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
        ClientState(bits << STATUS_SHIFT)
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

    /// Contacts so far.
    pub fn contacts(self) -> u32 {
        self.days().count_ones()
    }

    /// Books a contact on `day` (`day < MAX_DAYS`).
    pub fn contact_on(&mut self, day: u32) {
        self.0 |= (1u64 << day) & DAYS_MASK;
    }

    /// Notes that a proposal was refused because its channel was full.
    pub fn refused_for_capacity(&mut self) {
        self.0 |= CAPACITY_REFUSED;
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
            assert_eq!((s.status(), s.days(), s.contacts()), (status, 0, 0));
            s.refused_for_capacity();
            assert_eq!(s.status(), status);
            for day in [0, 13, crate::config::MAX_DAYS - 1] {
                s.contact_on(day);
            }
            assert_eq!((s.status(), s.contacts(), s.uncontacted()), (status, 3, None));
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
