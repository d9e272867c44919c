// Invoices (SPEC 2.13): the list (newest first, a page at a time), the status, the PDF through its
// short-lived presigned URL, paying an open invoice, and one invoice's lines.

import { api, ChargeAttempt, charge } from "../api.js";
import { brandName, cardLabel, date, money, t } from "../i18n.js";
import { busy, errorBox, h, notice, openDialog, replace, uid } from "../ui.js";
import { loadCards } from "./cards.js";

function statusBadge(status) {
  return h("span", { class: `badge invoice-${status}` }, t(`invoice.status.${status}`));
}

// The PDF: ask for a fresh presigned URL (valid a few minutes) and let the browser fetch it; S3 serves
// it as an attachment named after the invoice number, so the page stays where it is.
async function download(invoice, status) {
  const link = await api.get(`/invoices/${invoice.id}/pdf`);
  const a = h("a", { href: link.url, download: `${invoice.number}.pdf`, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  replace(status, notice(t("invoices.downloading", { number: invoice.number })));
}

// Paying an open invoice (a failed automatic renewal): the saved cards, the default preselected, and
// Pay with the amount. One attempt per dialog: a retry after no answer reuses its Idempotency-Key.
async function payDialog(invoice) {
  const cards = await loadCards();
  const attempt = new ChargeAttempt();
  const selectId = uid("pay-card");
  return openDialog({
    title: t("invoices.payTitle", { number: invoice.number }),
    body: (close) => {
      const errors = h("div", { class: "dialog-errors" });
      const select = h("select", { id: selectId }, cards.map((card) => h("option", { value: card.id, selected: card.is_default },
        cardLabel(card))));
      const pay = h("button", { type: "submit", class: "primary", disabled: !cards.length },
        t("btn.payAmount", { amount: money(invoice.total, invoice.currency) }));
      const notNow = h("button", { type: "button", class: "secondary", onclick: () => close(null) }, t("btn.notNow"));
      return h("form", {
        method: "dialog",
        onsubmit: async (event) => {
          event.preventDefault();
          replace(errors);
          try {
            close(await busy([pay, notNow], () => charge(attempt, `/invoices/${invoice.id}/pay`, { payment_method_id: select.value })) ?? true);
          } catch (error) {
            replace(errors, errorBox(error));
          }
        },
      },
      cards.length
        ? h("div", { class: "field" }, h("label", { for: selectId }, t("add.cardLabel")), select)
        : notice(t("add.noCard"), "info"),
      errors,
      h("div", { class: "actions" }, notNow, pay));
    },
  });
}

function actions(invoice, status, ctx) {
  const downloadButton = h("button", {
    type: "button", class: "secondary", "aria-label": `${t("btn.download")}: ${invoice.number}`,
    onclick: async (event) => {
      replace(status);
      try {
        await busy(event.currentTarget, () => download(invoice, status));
      } catch (error) {
        replace(status, errorBox(error));
      }
    },
  }, t("btn.download"));
  const payButton = invoice.status === "open" ? h("button", {
    type: "button", class: "primary", "aria-label": `${t("btn.payNow")}: ${invoice.number}`,
    onclick: async (event) => {
      replace(status);
      try {
        if (!(await busy(event.currentTarget, () => payDialog(invoice)))) return;
        ctx.notify(t("invoices.paid", { number: invoice.number }));
        ctx.state.account = null;
        ctx.rerender();
      } catch (error) {
        replace(status, errorBox(error));
      }
    },
  }, t("btn.payNow")) : null;
  return [payButton, downloadButton];
}

export async function render(section, _params, ctx) {
  const status = h("div", { "aria-live": "polite" });
  let page;
  try {
    page = await api.get("/invoices");
  } catch (error) {
    if (error.kind !== "route_missing") throw error;
    replace(section, h("h1", {}, t("invoices.title")), notice(t("invoices.unavailable"), "info"));
    return;
  }
  if (!ctx.isCurrent()) return;
  const rows = h("tbody");
  const more = h("div", { class: "actions" });
  const add = (items) => rows.append(...items.map((invoice) => h("tr", { dataset: { invoice: invoice.id, number: invoice.number } },
    h("th", { scope: "row" }, h("a", { href: `#/invoices/${invoice.id}` }, invoice.number)),
    h("td", {}, date(invoice.issued_at)),
    h("td", {}, invoice.period_start ? `${date(invoice.period_start)} – ${date(invoice.period_end)}` : ""),
    h("td", { class: "num" }, money(invoice.total, invoice.currency)),
    h("td", {}, statusBadge(invoice.status)),
    h("td", { class: "row-actions" }, actions(invoice, status, ctx)))));
  const showMore = (cursor) => replace(more, cursor ? h("button", {
    type: "button", class: "secondary",
    onclick: async (event) => {
      try {
        const next = await busy(event.currentTarget, () => api.get("/invoices", { cursor }));
        add(next.items);
        showMore(next.next_cursor);
      } catch (error) {
        replace(status, errorBox(error));
      }
    },
  }, t("btn.loadMore")) : null);
  add(page.items);
  showMore(page.next_cursor);
  replace(section, h("h1", {}, t("invoices.title")), status,
    page.items.length ? h("div", { class: "card table-wrap" }, h("table", { class: "invoices" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, t("invoices.number")),
        h("th", { scope: "col" }, t("invoices.issued")),
        h("th", { scope: "col" }, t("invoices.period")),
        h("th", { scope: "col", class: "num" }, t("invoices.total")),
        h("th", { scope: "col" }, t("invoices.status")),
        h("th", { scope: "col" }, h("span", { class: "visually-hidden" }, t("invoices.actions"))))),
      rows)) : h("p", {}, t("invoices.none")),
    more);
}

export async function renderInvoice(section, params, ctx) {
  const invoice = await api.get(`/invoices/${params.id}`);
  if (!ctx.isCurrent()) return;
  const status = h("div", { "aria-live": "polite" });
  replace(section,
    h("h1", {}, t("invoice.title", { number: invoice.number })),
    status,
    h("div", { class: "card panel" },
      h("dl", { class: "facts" },
        h("div", { class: "fact" }, h("dt", {}, t("invoices.status")), h("dd", {}, statusBadge(invoice.status))),
        h("div", { class: "fact" }, h("dt", {}, t("invoices.issued")), h("dd", {}, date(invoice.issued_at))),
        invoice.period_start ? h("div", { class: "fact" }, h("dt", {}, t("invoices.period")),
          h("dd", {}, `${date(invoice.period_start)} – ${date(invoice.period_end)}`)) : null),
      h("table", { class: "lines" },
        h("caption", { class: "visually-hidden" }, t("invoice.lines")),
        h("thead", {}, h("tr", {},
          h("th", { scope: "col" }, t("invoice.description")),
          h("th", { scope: "col", class: "num" }, t("invoice.quantity")),
          h("th", { scope: "col", class: "num" }, t("invoice.unit")),
          h("th", { scope: "col", class: "num" }, t("invoice.amount")))),
        h("tbody", {}, (invoice.lines || []).map((line) => h("tr", {},
          h("td", {}, line.description),
          h("td", { class: "num" }, String(line.quantity)),
          h("td", { class: "num" }, money(line.unit_amount, invoice.currency)),
          h("td", { class: "num" }, money(line.amount, invoice.currency)))))),
      h("dl", { class: "totals" },
        h("div", {}, h("dt", {}, t("quote.subtotal")), h("dd", {}, money(invoice.subtotal, invoice.currency))),
        h("div", {}, h("dt", {}, t("quote.vat", { rate: invoice.tax_rate })), h("dd", {}, money(invoice.tax_amount, invoice.currency))),
        h("div", { class: "total" }, h("dt", {}, t("quote.total")), h("dd", {}, money(invoice.total, invoice.currency)))),
      invoice.tax_note ? h("p", { class: "hint" }, invoice.tax_note) : null,
      invoice.payment ? h("p", {}, t("invoice.paidWith", { card: `${brandName(invoice.payment.brand)} •••• ${invoice.payment.last4}` })) : null,
      h("div", { class: "actions" }, actions(invoice, status, ctx))),
    h("p", { class: "back-link" }, h("a", { href: "#/invoices" }, t("btn.back"))));
}
