// Cards: the list with make default and remove, the card picker of the payment steps, and the form
// that adds a card through the sandbox tokeniser (the card number goes to the tokeniser only; the API
// stores the token, SPEC 2.10).

import { api, fieldErrors } from "../api.js";
import { brandName, cardLabel, t } from "../i18n.js";
import { busy, confirmDialog, errorBox, field, h, notice, replace, showFieldErrors, uid } from "../ui.js";

export async function loadCards() {
  const page = await api.get("/payment-methods");
  return page.items || [];
}

function expiry(card) {
  return t("cards.expires", { month: String(card.exp_month).padStart(2, "0"), year: String(card.exp_year).slice(-2) });
}

function cardSummary(card) {
  return h("div", { class: "card-summary" },
    h("span", { class: `card-brand card-brand-${String(card.brand || "").toLowerCase()}`, "aria-hidden": "true" }, brandName(card.brand)),
    h("span", { class: "card-text" },
      h("strong", {}, cardLabel(card)),
      h("span", { class: "muted small" }, [expiry(card), card.name].filter(Boolean).join(" · "))),
    card.is_default ? h("span", { class: "badge default" }, t("cards.default")) : null);
}

// The form for a new card. Resolves `onAdded(card)` with the stored payment method.
export function cardForm({ onAdded, onCancel }) {
  const year = new Date().getUTCFullYear();
  const fields = {
    name: field({ name: "name", label: t("card.name"), required: true, autocomplete: "cc-name" }),
    number: field({ name: "number", label: t("card.number"), required: true, autocomplete: "cc-number",
      attrs: { inputmode: "numeric", maxlength: 23 } }),
    exp_month: field({ name: "exp_month", label: t("card.expMonth"), type: "number", required: true,
      autocomplete: "cc-exp-month", attrs: { min: 1, max: 12, placeholder: "MM" } }),
    exp_year: field({ name: "exp_year", label: t("card.expYear"), type: "number", required: true,
      autocomplete: "cc-exp-year", attrs: { min: year, max: year + 20, placeholder: String(year + 2) } }),
    cvc: field({ name: "cvc", label: t("card.cvc"), required: true, autocomplete: "cc-csc",
      attrs: { inputmode: "numeric", maxlength: 4 } }),
  };
  const errors = h("div");
  const submit = h("button", { type: "submit", class: "primary" }, t("btn.continue"));
  const cancel = onCancel ? h("button", { type: "button", class: "secondary", onclick: onCancel }, t("btn.notNow")) : null;
  const titleId = uid("card-form");
  const form = h("form", {
    class: "card-form", "aria-labelledby": titleId, novalidate: true,
    onsubmit: async (event) => {
      event.preventDefault();
      replace(errors);
      showFieldErrors(fields, []);
      if (!form.checkValidity()) {
        form.reportValidity();
        return;
      }
      const details = {
        number: fields.number.input.value.replace(/[\s-]/g, ""),
        exp_month: Number(fields.exp_month.input.value),
        exp_year: Number(fields.exp_year.input.value),
        cvc: fields.cvc.input.value.trim(),
        name: fields.name.input.value.trim(),
      };
      try {
        const card = await busy([submit, ...(cancel ? [cancel] : [])], async () => {
          const tokenised = await api.post("/sandbox/card-tokens", details);
          return api.post("/payment-methods", { token: tokenised.token ?? tokenised.id });
        });
        fields.number.input.value = "";
        fields.cvc.input.value = "";
        await onAdded(card);
      } catch (error) {
        showFieldErrors(fields, fieldErrors(error));
        replace(errors, errorBox(error));
      }
    },
  },
  h("h3", { id: titleId }, t("card.formTitle")),
  h("p", { class: "hint" }, t("card.sandbox")),
  fields.name.root,
  fields.number.root,
  h("div", { class: "field-row" }, fields.exp_month.root, fields.exp_year.root, fields.cvc.root),
  errors,
  h("div", { class: "actions" }, cancel, submit));
  setTimeout(() => fields.name.input.focus(), 0);
  return form;
}

// The cards of Payment and billing.
export async function cardsSection(ctx) {
  const titleId = uid("cards");
  const section = h("section", { class: "card panel", "aria-labelledby": titleId });
  const status = h("div", { "aria-live": "polite" });
  const list = h("ul", { class: "card-list" });
  const addArea = h("div");
  const addButton = h("button", { type: "button", class: "secondary", onclick: () => showForm() }, t("btn.addCard"));

  const showForm = () => {
    addButton.hidden = true;
    replace(addArea, cardForm({
      onAdded: async (card) => {
        replace(addArea);
        addButton.hidden = false;
        await refresh(notice(t("cards.added", { card: cardLabel(card) })));
      },
      onCancel: () => {
        replace(addArea);
        addButton.hidden = false;
        addButton.focus();
      },
    }));
  };

  const refresh = async (message) => {
    let cards;
    try {
      cards = await loadCards();
    } catch (error) {
      replace(list);
      addButton.hidden = error.kind === "route_missing";
      replace(status, error.kind === "route_missing" ? notice(t("cards.unavailable"), "info") : errorBox(error, { retry: () => refresh() }));
      return;
    }
    replace(status, message || null);
    replace(list, cards.length ? cards.map((card) => h("li", { class: "card-item", dataset: { card: card.id, last4: card.last4 } },
      cardSummary(card),
      h("div", { class: "actions" },
        card.is_default ? null : h("button", {
          type: "button", class: "secondary",
          onclick: async (event) => {
            replace(status);
            try {
              await busy(event.currentTarget, () => api.post(`/payment-methods/${card.id}/default`));
              ctx.state.account = null;
              await refresh(notice(t("cards.defaultSet", { card: cardLabel(card) })));
            } catch (error) {
              replace(status, errorBox(error));
            }
          },
        }, t("btn.makeDefault")),
        h("button", {
          type: "button", class: "danger-link", "aria-label": `${t("btn.remove")}: ${cardLabel(card)}`,
          onclick: async () => {
            replace(status);
            const removed = await confirmDialog({
              title: t("cards.removeTitle"),
              text: t("cards.removeText", { card: cardLabel(card) }),
              confirmLabel: t("btn.remove"),
              danger: true,
              confirm: () => api.del(`/payment-methods/${card.id}`),
            });
            if (removed) await refresh(notice(t("cards.removed")));
          },
        }, t("btn.remove")))))
      : h("li", { class: "muted" }, t("cards.none")));
  };

  section.append(h("h2", { id: titleId }, t("cards.title")), status, list, addArea, addButton);
  await refresh();
  return section;
}

// The card picker of a payment step: the saved cards as radio buttons (the default preselected) and
// "Add a new payment method". `selected` is the id chosen so far; `onSelect(card)` on every change.
export async function cardPicker({ selected, onSelect }) {
  const titleId = uid("picker");
  const root = h("fieldset", { class: "card-picker", "aria-describedby": `${titleId}-hint` });
  const status = h("div");
  const options = h("div", { class: "card-options" });
  const addArea = h("div");
  const addButton = h("button", { type: "button", class: "secondary", onclick: () => showForm() }, t("btn.addPaymentMethod"));
  let cards = [];

  const choose = (card) => {
    selected = card ? card.id : null;
    onSelect(card);
  };

  const draw = () => {
    replace(options, cards.map((card) => {
      const id = uid("card");
      const radio = h("input", { type: "radio", name: titleId, id, value: card.id, checked: card.id === selected,
        onchange: () => choose(card) });
      return h("div", { class: "option" }, radio, h("label", { for: id }, cardSummary(card)));
    }));
  };

  const showForm = () => {
    addButton.hidden = true;
    replace(addArea, cardForm({
      onAdded: async (card) => {
        replace(addArea);
        addButton.hidden = false;
        cards = await loadCards();
        choose(cards.find((c) => c.id === card.id) || card);
        draw();
        replace(status, notice(t("cards.added", { card: cardLabel(card) })));
      },
      onCancel: cards.length ? () => { replace(addArea); addButton.hidden = false; addButton.focus(); } : null,
    }));
  };

  root.append(h("legend", { id: titleId }, t("renew.card")), h("p", { id: `${titleId}-hint`, class: "hint" }, t("renew.paymentIntro")),
    status, options, addArea, addButton);
  try {
    cards = await loadCards();
  } catch (error) {
    addButton.hidden = true;
    replace(status, error.kind === "route_missing" ? notice(t("cards.unavailable"), "info") : errorBox(error));
    choose(null);
    return root;
  }
  const initial = cards.find((c) => c.id === selected) || cards.find((c) => c.is_default) || cards[0] || null;
  choose(initial);
  draw();
  if (!cards.length) showForm();
  return root;
}
