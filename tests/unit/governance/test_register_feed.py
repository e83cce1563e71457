import datetime as dt
import xml.etree.ElementTree as ET

from campus.governance.models import Approval
from campus.governance.register import FeedItem, atom
from campus.governance.service import approval_state

ATOM = "{http://www.w3.org/2005/Atom}"


def test_the_atom_feed_is_well_formed_and_escapes_user_text():
    at = dt.datetime(2026, 11, 29, 12, tzinfo=dt.UTC)
    items = [FeedItem("p1", "New project: <b>Tom & Jerry</b>", at, "/register/p1", "a < b")]
    root = ET.fromstring(atom(items, "https://campus.example"))
    entry = root.find(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "New project: <b>Tom & Jerry</b>"
    assert entry.find(f"{ATOM}link").get("href") == "https://campus.example/register/p1"
    assert root.findtext(f"{ATOM}updated") == at.isoformat()


def test_an_active_approval_past_its_expiry_is_expired_and_others_keep_their_status():
    now = dt.datetime(2026, 11, 29, tzinfo=dt.UTC)
    approval = Approval(status="active", expires_at=now + dt.timedelta(days=1))
    assert approval_state(approval, now) == "active"
    assert approval_state(approval, now + dt.timedelta(days=2)) == "expired"
    approval.status = "revoked"
    assert approval_state(approval, now) == "revoked"
