// Small DOM helpers. Text always goes in as text (never as HTML), so nothing the API returns can
// inject markup.

import { plainWords } from "./api.js";
import { t } from "./i18n.js";

// h("button", {class: "primary", onclick}, "Label", child, ...): an element.
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (name === "value") {
      el.value = value;
    } else if (name === "checked" || name === "disabled" || name === "selected") {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let ids = 0;
export function uid(prefix = "id") {
  ids += 1;
  return `${prefix}-${ids}`;
}

// A failure in plain words, announced to screen readers.
export function errorBox(error, { retry } = {}) {
  return h("div", { class: "notice error", role: "alert" },
    h("p", {}, plainWords(error)),
    retry ? h("button", { type: "button", class: "secondary", onclick: retry }, t("app.retry")) : null);
}

export function notice(text, kind = "success") {
  return h("div", { class: `notice ${kind}`, role: kind === "error" ? "alert" : "status" }, h("p", {}, text));
}

export function loading() {
  return h("p", { class: "loading", role: "status" }, t("app.loading"));
}

// Runs `action` with the button disabled and marked busy; failures go to `onError`.
export async function busy(button, action) {
  const buttons = Array.isArray(button) ? button : [button];
  for (const b of buttons) {
    b.disabled = true;
    b.setAttribute("aria-busy", "true");
  }
  try {
    return await action();
  } finally {
    for (const b of buttons) {
      b.disabled = false;
      b.removeAttribute("aria-busy");
    }
  }
}

// The + / - seat picker: a labelled number input between two buttons.
export function seatPicker({ label, value, min, max, onChange, id = uid("seats") }) {
  const input = h("input", {
    id, type: "number", inputmode: "numeric", min, max: max ?? undefined, step: 1, value: String(value),
    class: "seat-input", "aria-describedby": `${id}-hint`,
  });
  const clamp = (n) => Math.max(min, max != null ? Math.min(max, n) : n);
  const set = (n) => {
    const next = clamp(Number.isFinite(n) ? n : min);
    input.value = String(next);
    minus.disabled = next <= min;
    plus.disabled = max != null && next >= max;
    onChange(next);
  };
  const minus = h("button", { type: "button", class: "step", "aria-label": t("seats.decrease"),
    "aria-controls": id, onclick: () => set(Number(input.value) - 1) }, "−");
  const plus = h("button", { type: "button", class: "step", "aria-label": t("seats.increase"),
    "aria-controls": id, onclick: () => set(Number(input.value) + 1) }, "+");
  input.addEventListener("change", () => set(Math.round(Number(input.value))));
  minus.disabled = value <= min;
  plus.disabled = max != null && value >= max;
  const hint = h("p", { id: `${id}-hint`, class: "hint" });
  const root = h("div", { class: "seat-picker" },
    h("label", { for: id }, label),
    h("div", { class: "stepper" }, minus, input, plus),
    hint);
  return { root, input, hint, set };
}

// A modal dialog (<dialog>, so focus stays inside and Escape closes it). `body` builds the content
// given a `close` function; resolves when the dialog closes.
export function openDialog({ title, body, describedBy }) {
  const titleId = uid("dialog-title");
  const dialog = h("dialog", { class: "dialog", "aria-labelledby": titleId, "aria-describedby": describedBy });
  let resolve;
  const done = new Promise((r) => { resolve = r; });
  const opener = document.activeElement;
  const close = (result) => {
    dialog.close();
    dialog.remove();
    if (opener && opener.isConnected) opener.focus();
    resolve(result);
  };
  dialog.append(h("h2", { id: titleId }, title), ...[].concat(body(close)));
  dialog.addEventListener("cancel", (event) => {
    event.preventDefault();
    close(null);
  });
  document.body.append(dialog);
  dialog.showModal();
  return done;
}

// The confirmation dialog of a change the person must acknowledge: the wording, the "I understand"
// box, and Confirm (enabled only once the box is ticked). `load` fetches the wording ({text, version});
// `confirm(version, extra)` makes the change and resolves with what the caller wants back.
export function acknowledgeDialog({ title, load, wordingText, confirm, extraFields = () => [] }) {
  const textId = uid("ack-text");
  return openDialog({
    title,
    describedBy: textId,
    body: (close) => {
      const text = h("div", { id: textId, class: "ack-text" }, h("p", { class: "loading", role: "status" }, t("ack.loading")));
      const errors = h("div", { class: "dialog-errors" });
      const boxId = uid("understand");
      const box = h("input", { type: "checkbox", id: boxId, disabled: true });
      const extras = extraFields();
      const confirmButton = h("button", { type: "submit", class: "primary", disabled: true }, t("btn.confirm"));
      const notNow = h("button", { type: "button", class: "secondary", onclick: () => close(null) }, t("btn.notNow"));
      box.addEventListener("change", () => { confirmButton.disabled = !box.checked; });
      let wording = null;
      load().then((loaded) => {
        wording = loaded;
        replace(text, h("p", {}, wordingText(loaded)));
        box.disabled = false;
      }).catch((error) => {
        replace(text);
        replace(errors, errorBox(error));
      });
      const form = h("form", {
        method: "dialog",
        onsubmit: async (event) => {
          event.preventDefault();
          if (!box.checked || !wording) return;
          replace(errors);
          try {
            const result = await busy([confirmButton, notNow], () => confirm(wording.version));
            close(result ?? true);
          } catch (error) {
            replace(errors, errorBox(error));
          }
        },
      },
      text,
      ...extras,
      h("div", { class: "understand" }, box, h("label", { for: boxId }, t("btn.understand"))),
      errors,
      h("div", { class: "actions" }, notNow, confirmButton));
      return form;
    },
  });
}

// A dialog that asks once and runs `confirm` (e.g. removing a card); errors stay in the dialog.
export function confirmDialog({ title, text, confirmLabel, confirm, danger = false }) {
  const textId = uid("confirm-text");
  return openDialog({
    title,
    describedBy: textId,
    body: (close) => {
      const errors = h("div", { class: "dialog-errors" });
      const ok = h("button", { type: "submit", class: danger ? "danger" : "primary" }, confirmLabel);
      const notNow = h("button", { type: "button", class: "secondary", onclick: () => close(null) }, t("btn.notNow"));
      return h("form", {
        method: "dialog",
        onsubmit: async (event) => {
          event.preventDefault();
          replace(errors);
          try {
            const result = await busy([ok, notNow], confirm);
            close(result ?? true);
          } catch (error) {
            replace(errors, errorBox(error));
          }
        },
      }, h("p", { id: textId }, text), errors, h("div", { class: "actions" }, notNow, ok));
    },
  });
}

// A labelled form field; `error` slots under it for the API's message about this field.
export function field({ name, label, value = "", type = "text", required = false, autocomplete, attrs = {} }) {
  const id = uid(`f-${name}`);
  const errorId = `${id}-error`;
  const input = h("input", { id, name, type, value: value ?? "", required, autocomplete, "aria-describedby": errorId,
    ...attrs });
  const error = h("p", { id: errorId, class: "field-error" });
  return { root: h("div", { class: "field" }, h("label", { for: id }, label), input, error), input, error };
}

// Shows a 422's field problems next to the fields (by name); returns whether any matched.
export function showFieldErrors(fields, problems) {
  let matched = false;
  for (const f of Object.values(fields)) {
    f.error.textContent = "";
    f.input.removeAttribute("aria-invalid");
  }
  for (const problem of problems) {
    const f = fields[problem.field];
    if (!f) continue;
    matched = true;
    f.error.textContent = problem.message;
    f.input.setAttribute("aria-invalid", "true");
  }
  return matched;
}
