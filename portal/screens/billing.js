// Payment and billing: the billing information form (SPEC 2.12) and the cards (SPEC 2.10).

import { api, fieldErrors } from "../api.js";
import { dateTime, t } from "../i18n.js";
import { busy, errorBox, field, h, notice, replace, showFieldErrors, uid } from "../ui.js";
import { cardsSection } from "./cards.js";

const FIELDS = [
  ["company_name", { required: true, autocomplete: "organization" }],
  ["email", { type: "email", required: true, autocomplete: "email" }],
  ["address_line1", { required: true, autocomplete: "address-line1" }],
  ["address_line2", { autocomplete: "address-line2" }],
  ["postal_code", { required: true, autocomplete: "postal-code" }],
  ["city", { required: true, autocomplete: "address-level2" }],
  ["region", { autocomplete: "address-level1" }],
  ["country", { required: true, autocomplete: "country", attrs: { maxlength: 2, pattern: "[A-Za-z]{2}", class: "short" } }],
  ["vat_id", {}],
  ["po_reference", {}],
];
const OPTIONAL = new Set(["address_line2", "region", "vat_id", "po_reference"]);

function billingForm(info) {
  const titleId = uid("billing");
  const fields = Object.fromEntries(FIELDS.map(([name, options]) => [name,
    field({ name, label: t(`field.${name}`), value: info ? info[name] ?? "" : "", ...options })]));
  const status = h("div", { "aria-live": "polite" });
  const lastSaved = (saved) => (saved && saved.updated_at ? t("billing.updated", { when: dateTime(saved.updated_at) }) : "");
  const updated = h("p", { class: "hint" }, lastSaved(info));
  const save = h("button", { type: "submit", class: "primary" }, t("btn.save"));
  const form = h("form", {
    class: "card panel billing-form", "aria-labelledby": titleId,
    onsubmit: async (event) => {
      event.preventDefault();
      replace(status);
      showFieldErrors(fields, []);
      const body = {};
      for (const [name] of FIELDS) {
        const value = fields[name].input.value.trim();
        if (value || !OPTIONAL.has(name)) body[name] = name === "country" ? value.toUpperCase() : value;
      }
      try {
        const saved = await busy(save, () => api.put("/billing-info", body));
        for (const [name] of FIELDS) fields[name].input.value = saved[name] ?? "";
        updated.textContent = lastSaved(saved);
        replace(status, notice(t("billing.saved")));
      } catch (error) {
        showFieldErrors(fields, fieldErrors(error));
        replace(status, errorBox(error));
      }
    },
  },
  h("h2", { id: titleId }, t("billing.infoTitle")),
  h("div", { class: "form-grid" }, FIELDS.map(([name]) => fields[name].root)),
  status,
  h("div", { class: "actions" }, updated, save));
  return form;
}

export async function render(section, _params, ctx) {
  let info = null;
  let infoError = null;
  try {
    info = await api.get("/billing-info");
  } catch (error) {
    if (error.status !== 404) infoError = error;
  }
  const cards = await cardsSection(ctx);
  if (!ctx.isCurrent()) return;
  replace(section,
    h("h1", {}, t("billing.title")),
    h("div", { class: "billing" },
      infoError ? h("section", { class: "card panel" }, h("h2", {}, t("billing.infoTitle")), errorBox(infoError, { retry: () => ctx.rerender() }))
        : billingForm(info),
      cards));
}
