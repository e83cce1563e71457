// Staff check-in: read attendees' QR codes with the camera and post each ticket to the
// check-in endpoint. The browser's BarcodeDetector reads the frames where it exists; elsewhere
// (Chromium on Linux and Windows, Firefox) the vendored jsQR does, from frames drawn on a
// canvas. Without a camera, the manual form of the page does the same. No inline script: the
// CSP forbids it.
(function () {
  "use strict";
  var section = document.getElementById("scanner");
  if (!section) { return; }
  var eventId = section.getAttribute("data-event");
  var result = document.getElementById("checkin-result");
  var video = document.getElementById("scan-video");
  var start = document.getElementById("scan-start");
  var stop = document.getElementById("scan-stop");
  var okLabel = document.getElementById("scan-msg-ok").textContent;
  var networkLabel = document.getElementById("scan-msg-network").textContent;
  var failedLabel = document.getElementById("scan-msg-failed").textContent;
  var cameraLabel = document.getElementById("scan-msg-camera").textContent;
  // The API answers English message ids; the page carries their translations.
  var messages = {};
  try { messages = JSON.parse(document.getElementById("scan-messages").textContent); }
  catch (error) { /* untranslated messages are still readable */ }
  var meta = document.querySelector('meta[name="csrf-token"]');
  var stream = null;
  var detect = null; // () -> Promise of the text of a QR code in the current frame, or ""
  var busy = false;
  var lastToken = "";

  function show(kind, text) {
    var box = document.createElement("div");
    box.className = "alert " + (kind === "ok" ? "alert-ok" : "alert-error");
    box.setAttribute("data-testid", kind === "ok" ? "checkin-ok" : "checkin-error");
    box.textContent = text; // never innerHTML: names are user content
    result.replaceChildren(box);
  }

  function post(token) {
    busy = true;
    return fetch("/api/v1/events/" + encodeURIComponent(eventId) + "/checkin", {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": meta ? meta.getAttribute("content") : ""
      },
      body: JSON.stringify({ token: token })
    }).then(function (response) {
      // An answer that is not JSON (a proxy's error page) is a failed check-in: the server
      // was reached.
      return response.json().catch(function () { return {}; }).then(function (body) {
        var message = body.error && body.error.message;
        if (response.ok && body.name !== undefined) { show("ok", okLabel + " " + body.name); }
        else { show("error", (message && (messages[message] || message)) || failedLabel); }
      });
    }, function () {
      show("error", networkLabel);
    }).finally(function () {
      busy = false;
    });
  }

  function scan() {
    if (!stream) { return; }
    if (!busy && video.readyState >= 2) {
      detect().then(function (token) {
        if (token && token !== lastToken) {
          lastToken = token;
          post(token);
        }
      }).catch(function () { /* a frame that cannot be read: try the next one */ });
    }
    window.setTimeout(scan, 250);
  }

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    video.srcObject = null;
    // No empty box where the picture was: the video shows only while the camera runs.
    video.hidden = true;
    stop.hidden = true;
    stop.disabled = true;
    start.disabled = false;
  }

  function nativeDetector() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return function () {
      return detector.detect(video).then(function (codes) {
        return codes.length && codes[0].rawValue ? codes[0].rawValue : "";
      });
    };
  }

  function canvasDetector() {
    var canvas = document.createElement("canvas");
    var context = canvas.getContext("2d", { willReadFrequently: true });
    return function () {
      var width = video.videoWidth;
      var height = video.videoHeight;
      if (!width || !height) { return Promise.resolve(""); }
      canvas.width = width;
      canvas.height = height;
      context.drawImage(video, 0, 0, width, height);
      var pixels = context.getImageData(0, 0, width, height).data;
      var code = window.jsQR(pixels, width, height, { inversionAttempts: "dontInvert" });
      return Promise.resolve(code && code.data ? code.data : "");
    };
  }

  section.hidden = false;
  if ("BarcodeDetector" in window) {
    detect = nativeDetector();
  } else if (typeof window.jsQR === "function") {
    detect = canvasDetector();
  }
  if (!detect || !navigator.mediaDevices) {
    document.getElementById("scan-msg-unsupported").hidden = false;
    return;
  }
  document.getElementById("camera").hidden = false;
  start.addEventListener("click", function () {
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.play();
        start.disabled = true;
        stop.hidden = false;
        stop.disabled = false;
        scan();
      })
      .catch(function () { show("error", cameraLabel); });
  });
  stop.addEventListener("click", stopCamera);
})();
