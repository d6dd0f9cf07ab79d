"""The printable case file for a referral (legal aid, a lawyer, an ombudsman): masked words only."""
