// The service desk's pages call the MFA endpoints (/mfa/..., JSON) from
// here: every change to a second factor goes through the HTTP contract
// that mfa-axum serves. Problems (RFC 9457, with a stable `code`) become
// messages; `step_up_required` opens the "Confirm it's you" dialog and
// the request is tried again once.
"use strict";

const $ = (selector, root = document) => root.querySelector(selector);
const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

async function api(method, path, body) {
  const init = { method, headers: { accept: "application/json" }, credentials: "same-origin" };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch("/mfa" + path, init);
  } catch (error) {
    return { status: 0, ok: false, data: { code: "network" } };
  }
  const text = await response.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch (error) { data = null; }
  return { status: response.status, ok: response.ok, data: data || {} };
}

// Like api(), but a change that needs a fresh code asks for one first.
async function call(method, path, body) {
  let result = await api(method, path, body);
  if (result.status === 403 && result.data.code === "step_up_required") {
    if (!(await stepUp())) return result;
    result = await api(method, path, body);
  }
  return result;
}

function wait(secs) {
  secs = Math.max(1, Number(secs) || 1);
  if (secs < 60) return secs + (secs === 1 ? " second" : " seconds");
  const minutes = Math.ceil(secs / 60);
  if (minutes < 60) return minutes + (minutes === 1 ? " minute" : " minutes");
  const hours = Math.ceil(minutes / 60);
  return hours + (hours === 1 ? " hour" : " hours");
}

function clock(unix) {
  return new Date(unix * 1000).toISOString().slice(11, 16) + " UTC";
}

// One message per problem code (the same answer whatever made a code
// wrong: the server does not tell, and neither do we).
function explain(result) {
  const p = result.data || {};
  switch (p.code) {
    case "code_rejected": return "That code didn't work. Check it and try again.";
    case "locked": return "Too many wrong codes. Try again in " + wait(p.retry_after) + ".";
    case "factor_blocked": return "This method is blocked after too many wrong codes. Use another method, or ask an administrator to reset your two-factor authentication.";
    case "too_soon": return "A code was sent a moment ago. You can ask for another in " + wait(p.retry_after) + ".";
    case "step_up_required": return "This change needs a fresh code.";
    case "mfa_required": return "Verify with your second factor first.";
    case "enrollment_required": return "Set up two-factor authentication first.";
    case "not_admin": return "Only administrators can do this.";
    case "forbidden_by_policy": return p.detail || "Your organisation's security settings do not allow this.";
    case "precondition": return p.detail || "That is not possible right now.";
    case "invalid_input": return "Please check what you typed.";
    case "unavailable": return "The desk cannot reach its database. Try again in " + wait(p.retry_after) + ".";
    case "not_authenticated": return "Your session ended. Sign in again.";
    case "network": return "The desk could not be reached. Check your connection.";
    default: return p.detail || p.title || "Something went wrong (" + result.status + ").";
  }
}

function show(element, text, kind) {
  if (!element) return;
  element.textContent = text;
  element.className = "notice " + (kind || "error");
  element.hidden = !text;
}

// ---- "Confirm it's you" -------------------------------------------------

function stepUp() {
  const dialog = $("#step-up");
  if (!dialog) return Promise.resolve(false);
  const form = $("#step-up-form");
  const method = $("#step-up-method");
  const code = $("#step-up-code");
  const send = $("#step-up-send");
  const message = $("#step-up-message");
  show(message, "");
  code.value = "";
  const sync = () => { send.hidden = !["email", "sms"].includes(method.value); };
  sync();
  method.onchange = sync;
  send.onclick = async () => {
    const result = await api("POST", "/send/" + method.value);
    show(message, result.ok ? "Code sent. It expires at " + clock(result.data.expires_at) + "." : explain(result), result.ok ? "info" : "error");
  };
  dialog.showModal();
  code.focus();
  return new Promise((resolve) => {
    $("#step-up-cancel").onclick = () => { dialog.close(); resolve(false); };
    dialog.oncancel = () => resolve(false);
    form.onsubmit = async (event) => {
      event.preventDefault();
      const result = await api("POST", "/verify", { method: method.value, code: code.value.trim() });
      if (result.ok) { dialog.close(); resolve(true); } else { show(message, explain(result)); }
    };
  });
}

// ---- The second step (/verify) -------------------------------------------

const PROMPTS = {
  totp: ["Enter the 6-digit code from your authenticator app.", "Code"],
  recovery: ["Enter one of your recovery codes (like abcd-efgh-jkmn).", "Recovery code"],
  email: ["We sent a code to your e-mail. Enter it here.", "Code from the e-mail"],
  sms: ["We sent a code by SMS. Enter it here.", "Code from the SMS"],
};

function setMethod(box, method) {
  box.dataset.method = method;
  $("#verify-prompt").textContent = PROMPTS[method][0];
  $("#code-label").textContent = PROMPTS[method][1];
  $$("[data-use-method]", box).forEach((b) => { b.hidden = b.dataset.useMethod === method; });
  const input = $("#verify-code");
  input.inputMode = method === "recovery" ? "text" : "numeric";
  input.value = "";
  input.focus();
}

function verifyPage(box) {
  const message = $("#verify-message");
  $$("[data-use-method]", box).forEach((b) => { b.hidden = b.dataset.useMethod === box.dataset.method; });
  $$("[data-use-method]", box).forEach((button) => {
    button.onclick = () => { show(message, ""); setMethod(box, button.dataset.useMethod); };
  });
  $$("[data-send]", box).forEach((button) => {
    button.onclick = async () => {
      const channel = button.dataset.send;
      const result = await api("POST", "/send/" + channel);
      if (result.ok) {
        setMethod(box, channel);
        show(message, "Code sent. It expires at " + clock(result.data.expires_at) + ".", "info");
      } else {
        show(message, explain(result));
      }
    };
  });
  $("#verify-form").onsubmit = async (event) => {
    event.preventDefault();
    const remember = $("#verify-remember");
    const result = await api("POST", "/verify", {
      method: box.dataset.method,
      code: $("#verify-code").value.trim(),
      remember_device: Boolean(remember && remember.checked),
    });
    if (result.ok) {
      if (result.data.recovery_codes_low) sessionStorage.setItem("codes-low", "1");
      location.assign(box.dataset.next || "/tickets");
    } else {
      show(message, explain(result));
      $("#verify-code").select();
    }
  };
}

// ---- Profile → Password & Security ----------------------------------------

function showCodes(codes, then) {
  const dialog = $("#codes-dialog");
  const list = $("#recovery-codes");
  list.textContent = "";
  codes.forEach((code) => { const li = document.createElement("li"); li.textContent = code; list.appendChild(li); });
  const text = "Service Desk recovery codes\n\n" + codes.join("\n") + "\n";
  $("#copy-codes").onclick = async () => {
    try { await navigator.clipboard.writeText(text); $("#copy-codes").textContent = "Copied"; } catch (error) { $("#copy-codes").textContent = "Select and copy them"; }
  };
  $("#download-codes").onclick = () => {
    const link = document.createElement("a");
    link.href = URL.createObjectURL(new Blob([text], { type: "text/plain" }));
    link.download = "service-desk-recovery-codes.txt";
    link.click();
    URL.revokeObjectURL(link.href);
  };
  $("#codes-saved").onclick = () => { dialog.close(); then(); };
  dialog.showModal();
}

function securityPage(box) {
  const message = $("#security-message");
  const done = () => {
    // A required enrollment sends the person on to where they were going.
    const next = box.dataset.next;
    if (next && next !== "/tickets" && location.search.includes("next=")) location.assign(next);
    else location.reload();
  };
  const enrolled = (result) => {
    const codes = result.data.recovery_codes;
    if (codes && codes.length) showCodes(codes, done); else done();
  };
  const fail = (result) => show(message, explain(result));

  $$("[data-cancel]").forEach((button) => { button.onclick = () => { $("#" + button.dataset.cancel).hidden = true; }; });

  const enable = $("#enable-app");
  if (enable) enable.onclick = async () => {
    const result = await call("POST", "/totp");
    if (!result.ok) return fail(result);
    const e = result.data;
    $("#qr").src = "data:image/svg+xml;base64," + btoa(e.qr_svg);
    $("#totp-key").textContent = e.key.replace(/\s+/g, "").replace(/(.{4})/g, "$1 ").trim();
    $("#totp-details").textContent = "Time-based, " + e.algorithm + ", " + e.digits + " digits, every " + e.period + " s";
    const panel = $("#app-setup");
    panel.dataset.id = e.id;
    panel.hidden = false;
    show(message, "");
    $("#app-code").focus();
  };
  const appConfirm = $("#app-confirm");
  if (appConfirm) appConfirm.onsubmit = async (event) => {
    event.preventDefault();
    const result = await call("POST", "/totp/confirm", {
      id: $("#app-setup").dataset.id,
      code: $("#app-code").value.trim(),
      name: $("#app-name").value.trim() || "Authenticator app",
    });
    if (result.ok) enrolled(result); else fail(result);
  };

  const noApp = $("#no-app");
  if (noApp) noApp.onclick = () => { $("#channel-choice").hidden = false; };
  $$("[data-channel-start]").forEach((button) => {
    button.onclick = async () => {
      const channel = button.dataset.channelStart;
      const result = await call("POST", "/channels/" + channel);
      if (!result.ok) return fail(result);
      const form = $("#channel-confirm");
      form.dataset.channel = channel;
      form.hidden = false;
      $("#channel-sent").textContent = "We sent a code " + (channel === "email" ? "by e-mail" : "by SMS") + ". It expires at " + clock(result.data.expires_at) + ".";
      show(message, "");
      $("#channel-code").focus();
    };
  });
  const channelConfirm = $("#channel-confirm");
  if (channelConfirm) channelConfirm.onsubmit = async (event) => {
    event.preventDefault();
    const result = await call("POST", "/channels/" + channelConfirm.dataset.channel + "/confirm", { code: $("#channel-code").value.trim() });
    if (result.ok) enrolled(result); else fail(result);
  };

  $$("[data-rename]").forEach((form) => {
    form.onsubmit = async (event) => {
      event.preventDefault();
      const result = await call("PATCH", "/factors/totp/" + encodeURIComponent(form.dataset.rename), { name: form.elements.name.value.trim() });
      if (result.ok) location.reload(); else fail(result);
    };
  });
  const confirmed = (question, path, method) => async () => {
    if (!confirm(question)) return;
    const result = await call(method || "DELETE", path);
    if (result.ok) location.reload(); else fail(result);
  };
  $$("[data-remove-app]").forEach((b) => { b.onclick = confirmed("Remove this authenticator app?", "/factors/totp/" + encodeURIComponent(b.dataset.removeApp)); });
  $$("[data-remove-channel]").forEach((b) => { b.onclick = confirmed("Stop sign-in codes by " + b.dataset.removeChannel + "?", "/factors/channels/" + b.dataset.removeChannel); });
  $$("[data-revoke-device]").forEach((b) => { b.onclick = confirmed("Forget this browser? It will ask for a code at the next sign-in.", "/devices/" + encodeURIComponent(b.dataset.revokeDevice)); });
  const disable = $("#disable-mfa");
  if (disable) disable.onclick = confirmed("Turn off two-factor authentication? Your account will be protected by your password only.", "/disable", "POST");
  const regenerate = $("#regenerate-codes");
  if (regenerate) regenerate.onclick = async () => {
    if (!confirm("Make new recovery codes? The old ones stop working.")) return;
    const result = await call("POST", "/recovery-codes");
    if (result.ok) showCodes(result.data.codes, () => location.reload()); else fail(result);
  };
}

// ---- Configuration → Advanced Settings -------------------------------------

function policyPage(form) {
  const message = $("#policy-message");
  const save = $("#policy-save");
  const report = $("#dry-run");
  let candidate = null;

  const read = () => {
    const policy = JSON.parse($("#policy-json").textContent);
    policy.roles = policy.roles || {};
    $$("fieldset[data-role]", form).forEach((set) => {
      const role = set.dataset.role;
      const value = (name) => form.elements[role + "-" + name];
      const rule = Object.assign({}, policy.roles[role] || policy.default);
      const mode = (form.querySelector("input[name='" + role + "-mode']:checked") || {}).value || "optional";
      delete rule.grace_secs;
      rule.mode = mode;
      if (mode === "required") rule.grace_secs = Math.max(0, Math.round(Number(value("grace").value) || 0)) * 86400;
      rule.methods = { app: value("app").checked, email: value("email").checked, sms: value("sms").checked };
      rule.remember_device_secs = value("remember").checked ? Math.max(1, Math.round(Number(value("remember-days").value) || 30)) * 86400 : null;
      policy.roles[role] = rule;
    });
    return policy;
  };
  form.addEventListener("input", () => { save.disabled = true; report.hidden = true; });
  form.onsubmit = async (event) => {
    event.preventDefault();
    candidate = read();
    const result = await call("POST", "/admin/policy/dry-run", candidate);
    if (!result.ok) { save.disabled = true; return show(message, explain(result)); }
    const r = result.data;
    const later = Object.values(r.enroll_by || {}).reduce((a, b) => a + b, 0);
    report.textContent = "";
    const line = (text) => { const p = document.createElement("p"); p.textContent = text; report.appendChild(p); };
    line("With these settings, of " + r.subjects + " people:");
    line(r.enroll_now + " would have to set up two-factor authentication at their next request;");
    line(later + " would have to by the end of the grace period;");
    line(r.compliant + " already have it, and " + r.not_required + " are not required to.");
    report.dataset.enrollNow = r.enroll_now;
    report.hidden = false;
    show(message, "");
    save.disabled = false;
  };
  save.onclick = async () => {
    if (!candidate) return;
    const result = await call("PUT", "/admin/policy", candidate);
    if (result.ok) {
      $("#policy-json").textContent = JSON.stringify(result.data);
      save.disabled = true;
      report.hidden = true;
      show(message, "Saved. The new settings apply from each person's next request.", "success");
    } else {
      show(message, explain(result));
    }
  };
}

function peoplePage(table) {
  const message = $("#people-message");
  $$("[data-reset]", table).forEach((button) => {
    button.onclick = async () => {
      if (!confirm("Reset two-factor authentication for " + button.dataset.name + "? They will be told by e-mail.")) return;
      const result = await call("POST", "/admin/subjects/" + encodeURIComponent(button.dataset.reset) + "/reset");
      if (result.ok) {
        sessionStorage.setItem("reset-done", button.dataset.name);
        location.reload();
      } else {
        show(message, explain(result));
      }
    };
  });
  const done = sessionStorage.getItem("reset-done");
  if (done) {
    sessionStorage.removeItem("reset-done");
    show(message, "Two-factor authentication was reset for " + done + ". They have been notified.", "success");
  }
}

document.addEventListener("DOMContentLoaded", () => {
  const verify = $("#verify");
  if (verify) verifyPage(verify);
  const security = $("#security");
  if (security) securityPage(security);
  const policy = $("#policy-form");
  if (policy) policyPage(policy);
  const people = $("#people");
  if (people) peoplePage(people);
});
