"""Events in a real browser: waitlisted on a full event, promoted on a cancellation, then
checked in by staff with the ticket code on the scan page, and by the camera reading the
ticket's QR code."""

import datetime as dt
from pathlib import Path

import segno
from playwright.sync_api import expect

from campus.db.base import utcnow
from campus.ecosystem.events import service
from campus.ecosystem.events.models import Registration
from campus.ecosystem.events.validation import EventInput
from campus.settings import Settings
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, sign_in
from tests.helpers import PASSWORD, make_account
from tests.integration.ecosystem.events_helpers import actor_of


def _context_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, locale="fr-FR")
    context.set_default_timeout(15000)
    page = context.new_page()
    page.on("dialog", lambda dialog: dialog.accept())  # the "cancel?" confirmation
    return context, page


def test_waitlist_promotion_and_qr_check_in(browser, live_server):
    db = live_server.db
    staff = actor_of(db, make_account(db, "e2e-ev-staff@example.org", "staff", name="Sam Staff"))
    first = actor_of(db, make_account(db, "e2e-ev-ana@example.org", "member", name="Ana Avant"))
    make_account(db, "e2e-ev-bob@example.org", "member", name="Bob Bientôt")
    settings = Settings(var_dir=live_server.var_dir, database_url=db.url).resolve()
    start = utcnow() + dt.timedelta(days=5)
    with db.session() as session:
        event = service.create_event(
            session,
            staff,
            EventInput(
                title="Atelier complet e2e",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=2),
                room="Salle Curie",
                capacity=1,
            ),
        )
        service.publish_event(session, staff, event.id)
        service.register(session, settings, first, event.id)  # the only seat is taken
        event_id = event.id

    bob_context, bob = _context_page(browser, live_server)
    sign_in(bob, "e2e-ev-bob@example.org", PASSWORD)
    bob.goto(f"/events/{event_id}")
    expect(bob.get_by_test_id("seats")).to_contain_text("Complet")
    bob.get_by_test_id("register").click()
    status = bob.get_by_test_id("registration-status")
    expect(status).to_have_attribute("data-status", "waitlisted")
    expect(status).to_contain_text("liste d'attente")

    ana_context, ana = _context_page(browser, live_server)
    sign_in(ana, "e2e-ev-ana@example.org", PASSWORD)
    ana.goto(f"/events/{event_id}")
    ana.get_by_test_id("unregister").click()
    expect(ana.get_by_role("status").first).to_contain_text("Votre inscription est annulée")

    bob.reload()
    expect(bob.get_by_test_id("registration-status")).to_have_attribute("data-status", "registered")
    expect(bob.locator(".qr svg")).to_be_visible()
    ticket = bob.get_by_test_id("ticket").input_value()

    staff_context, desk = _context_page(browser, live_server)
    sign_in(desk, "e2e-ev-staff@example.org", PASSWORD)
    desk.goto(f"/events/{event_id}/checkin")
    expect(desk.locator("#scanner")).to_be_visible()  # checkin.js ran under the CSP
    desk.get_by_role("textbox", name="Code du billet").fill(ticket)
    desk.get_by_test_id("checkin-submit").click()
    expect(desk.get_by_test_id("checkin-ok")).to_contain_text("Bob Bientôt")
    desk.get_by_role("textbox", name="Code du billet").fill(ticket)
    desk.get_by_test_id("checkin-submit").click()
    expect(desk.get_by_test_id("checkin-error")).to_contain_text("déjà été enregistré")

    bob.reload()
    expect(bob.get_by_test_id("registration-status")).to_contain_text("Entrée enregistrée")
    for context in (bob_context, ana_context, staff_context):
        context.close()


def _camera_file(path: Path, text: str, width: int = 640, height: int = 480) -> Path:
    """A video file (Y4M, 4:2:0) whose frames show the QR code of `text`, dark on white, for
    Chromium's fake camera."""
    matrix = segno.make(text, error="m").matrix
    modules = len(matrix) + 8  # with the quiet zone
    scale = min(width, height) * 9 // 10 // modules
    left, top = (width - modules * scale) // 2, (height - modules * scale) // 2
    luma = bytearray([235]) * (width * height)
    for row, cells in enumerate(matrix):
        for column, dark in enumerate(cells):
            if dark:
                x, y = left + (column + 4) * scale, top + (row + 4) * scale
                for line in range(y, y + scale):
                    luma[line * width + x : line * width + x + scale] = bytes([16]) * scale
    chroma = bytes([128]) * (width * height // 2)
    frame = b"FRAME\n" + bytes(luma) + chroma
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode() + frame * 3)
    return path


def test_staff_check_in_by_pointing_the_camera_at_the_ticket_qr(browser, live_server, tmp_path):
    db = live_server.db
    staff = actor_of(db, make_account(db, "e2e-qr-staff@example.org", "staff", name="Sam Scan"))
    guest = actor_of(db, make_account(db, "e2e-qr-guest@example.org", "member", name="Gil Guest"))
    settings = Settings(var_dir=live_server.var_dir, database_url=db.url).resolve()
    start = utcnow() + dt.timedelta(days=3)
    with db.session() as session:
        event = service.create_event(
            session,
            staff,
            EventInput(
                title="Scan e2e",
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                room="Salle Pasteur",
            ),
        )
        service.publish_event(session, staff, event.id)
        registration = service.register(session, settings, guest, event.id)
        ticket, event_id = service.ticket_for(settings, registration), event.id
    camera = _camera_file(tmp_path / "ticket.y4m", ticket)
    # A browser of its own: the fake camera is chosen at launch. Chromium on Linux has no
    # BarcodeDetector, so this exercises the jsQR path.
    scanner = browser.browser_type.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            *CHROMIUM_ARGS,
            "--use-fake-ui-for-media-stream",
            "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera}",
        ],
    )
    try:
        context = scanner.new_context(
            base_url=live_server.url, locale="fr-FR", permissions=["camera"]
        )
        context.set_default_timeout(15000)
        desk = context.new_page()
        sign_in(desk, "e2e-qr-staff@example.org", PASSWORD)
        desk.goto(f"/events/{event_id}/checkin")
        # No empty camera box before the camera runs (it left a blank gap on a phone).
        expect(desk.locator("#scan-video")).to_be_hidden()
        desk.get_by_role("button", name="Démarrer la caméra").click()
        expect(desk.locator("#scan-video")).to_be_visible()
        expect(desk.get_by_test_id("checkin-ok")).to_contain_text("Gil Guest")
        desk.get_by_role("button", name="Arrêter la caméra").click()
    finally:
        scanner.close()
    with db.session() as session:
        checked = session.get(Registration, registration.id).checked_in_at
    assert checked is not None
