// The portal works without JavaScript; this makes it nicer: times show
// in the reader's time zone, the customer's status updates while the page
// is open, the Resend button counts down to when it is allowed, and links
// copy with one click.
(function () {
  "use strict";

  // Times: the server writes each in UTC, which stays on hover (the
  // title); the text becomes the reader's own time zone.
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (isNaN(d.getTime())) { return; }
    var opts = { day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit" };
    if (el.getAttribute("data-precision") === "s") { opts.second = "2-digit"; }
    el.textContent = new Intl.DateTimeFormat(undefined, opts).format(d);
  });

  // Live status: poll the customer's JSON and update the facts in place.
  var live = document.querySelector("[data-live]");
  if (live) {
    var url = live.getAttribute("data-live");
    var last = live.getAttribute("data-status");
    var stage = live.getAttribute("data-stage");
    // What can be done depends on status and stage: when either changes,
    // the page reloads to offer it, unless someone is typing into a form.
    var typing = false;
    document.addEventListener("input", function () { typing = true; });
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (c) {
          if (!c) { return; }
          var badge = document.getElementById("status");
          if (badge) {
            badge.textContent = c.display_status;
            badge.className = "badge " + ({ ACTIVE: "ok", ACCEPTANCE_REQUIRED: "warn", SUSPENDED: "hold" }[c.subaccount_status] || "bad");
          }
          var set = function (id, v) { var el = document.getElementById(id); if (el) { el.textContent = v; } };
          set("emails", String(c.emails_sent));
          set("clouds", String(c.cloud_count));
          if (c.subaccount_status !== last || (c.stage || "") !== stage) {
            if (!typing) { window.location.reload(); return; }
            set("stage", c.stage_text);
            var note = document.getElementById("changed");
            if (note) { note.hidden = false; }
          }
        })
        .catch(function () {});
    };
    setInterval(poll, 2000);
  }

  // Resend: enabled at the time the server allows it.
  var resend = document.querySelector("button[data-resend-at]");
  if (resend) {
    var at = Date.parse(resend.getAttribute("data-resend-at"));
    var label = resend.textContent;
    var tick = function () {
      var left = Math.ceil((at - Date.now()) / 1000);
      if (left <= 0) {
        resend.disabled = false;
        resend.textContent = label.replace(/ \(.*\)$/, "");
        return;
      }
      var mm = Math.floor(left / 60), ss = left % 60;
      resend.textContent = label.replace(/ \(.*\)$/, "") + " (in " + (mm > 0 ? mm + " min " : "") + ss + " s)";
      setTimeout(tick, 1000);
    };
    tick();
  }

  // Copy buttons copy their target's value.
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    b.hidden = false;
    b.addEventListener("click", function (e) {
      e.preventDefault();
      var target = document.getElementById(b.getAttribute("data-copy"));
      if (!target) { return; }
      target.select();
      var done = function () { b.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(target.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });
})();
