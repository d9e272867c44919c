// English and Swedish. The Swedish labels follow the product's own Swedish help page (My Qlik):
// Förnya, Hantera, Färre licenser, Avbryt prenumeration, Ångra begäran, Jag förstår, Bekräfta, Betala,
// Fortsätt, Lägg till ny betalningsmetod.

const en = {
  "app.title": "My Account",
  "app.skip": "Skip to content",
  "app.loading": "Loading …",
  "app.retry": "Try again",
  "nav.label": "Main",
  "nav.subscriptions": "Subscriptions",
  "nav.billing": "Payment and billing",
  "nav.invoices": "Invoices",
  "nav.users": "Users",
  "nav.activity": "Activity",
  "lang.label": "Language",
  "signout": "Sign out",
  "signedin.as": "Signed in to {tenant}",

  "signin.title": "Sign in",
  "signin.intro": "This is the local run: pick a demo organisation to sign in as its service account owner. In a deployed portal the organisation's identity provider signs you in instead.",
  "signin.button": "Sign in as the owner of {name}",
  "signin.external": "Signing in through your identity provider …",
  "signin.expired": "Your sign-in has expired. Please sign in again.",
  "signin.notConfigured": "This portal has no way to sign in configured. See docs/portal.md (portal/config.js).",
  "signin.users": "{n} users",

  "edition.business": "Business",
  "edition.enterprise": "Enterprise",
  "term.monthly": "Monthly",
  "term.annual": "Annual",
  "status.active": "Active",
  "status.past_due": "Payment overdue",
  "status.ended": "Ended",
  "channel.reseller": "via reseller",

  "subs.title": "Subscriptions",
  "subs.none": "This organisation has no subscriptions.",
  "tile.seats": "Seats in use",
  "tile.seatsValue": "{active} of {seats}",
  "tile.period": "Current period",
  "tile.status": "Status",
  "tile.reduction": "Reduces to {seats} seats on {date}.",
  "tile.cancellation": "Ends on {date}. Everything keeps working until then.",
  "tile.renewal": "Next period paid for: {seats} seats, {start} – {end}.",
  "tile.ended": "Ended on {date}.",
  "tile.pastDue": "A payment failed. Pay the open invoice to keep the subscription.",
  "tile.pastDueLink": "Go to invoices",
  "tile.managedByAccountManager": "Changes to this subscription go through your account manager, {name} ({email}).",
  "tile.managedByReseller": "Changes to this subscription go through your reseller, {name} ({email}).",
  "tile.readOnly": "Read only",

  "btn.renew": "Renew",
  "btn.manage": "Manage",
  "btn.undo": "Undo request",
  "btn.fewer": "Fewer licences",
  "btn.addSeats": "Add seats",
  "btn.cancelSubscription": "Cancel subscription",
  "btn.upgrade": "Ask for an upgrade",
  "btn.understand": "I understand",
  "btn.confirm": "Confirm",
  "btn.notNow": "Not now",
  "btn.pay": "Pay",
  "btn.payAmount": "Pay {amount}",
  "btn.continue": "Continue",
  "btn.back": "Back",
  "btn.addPaymentMethod": "Add a new payment method",
  "btn.addCard": "Add credit card",
  "btn.makeDefault": "Use as default payment method",
  "btn.remove": "Remove",
  "btn.save": "Save",
  "btn.send": "Send",
  "btn.download": "Download PDF",
  "btn.details": "Details",
  "btn.payNow": "Pay now",
  "btn.loadMore": "Load more",
  "btn.assign": "Assign licence",
  "btn.backToSubscriptions": "Back to subscriptions",
  "btn.close": "Close",

  "seats.label": "Paid users",
  "seats.decrease": "One seat fewer",
  "seats.increase": "One seat more",
  "seats.floor": "You cannot go below the number of active users ({n}). Remove users first and wait at least two minutes before you continue.",
  "quote.monthly": "Monthly cost",
  "quote.perMonth": "{amount} per month",
  "quote.tier": "Seats {first}–{last}: {seats} × {unit}",
  "quote.dueNow": "Due now",
  "quote.subtotal": "Subtotal",
  "quote.vat": "VAT {rate} %",
  "quote.reverseCharge": "Reverse charge: VAT to be accounted for by the buyer.",
  "quote.total": "Total",
  "quote.effective": "Takes effect on {date}.",
  "quote.updating": "Updating the price …",

  "renew.title": "Renew {plan}",
  "renew.steps": "Steps",
  "renew.step.seats": "Seats",
  "renew.step.payment": "Payment",
  "renew.step.overview": "Overview",
  "renew.seatsLabel": "Paid users for the renewal period",
  "renew.period": "Renewal period",
  "renew.paymentTitle": "Payment",
  "renew.paymentIntro": "To use a card on file, make sure it is selected. To use another card, add a new payment method.",
  "renew.overviewTitle": "Overview",
  "renew.overviewIntro": "Check your choices and click Pay.",
  "renew.seats": "Seats",
  "renew.card": "Card",
  "renew.done": "Renewed: {seats} seats from {start} to {end}. {amount} paid.",
  "renew.ended": "This subscription has ended; renewing starts a new period when the payment is made.",

  "manage.title": "Manage {plan}",
  "manage.intro": "Choose a change. Changes to the number of seats and cancellations can be undone until they take effect.",
  "manage.addSeats.text": "Add seats now. You pay for the added seats pro rata for the rest of the current period.",
  "manage.fewer.text": "Fewer seats from the start of the next period. Until then your current licences stay available.",
  "manage.cancel.text": "The subscription ends at the end of the last paid period. Until then you can keep using it.",
  "manage.upgrade.text": "Move to capacity-based analytics. Your account manager, {name}, receives the request.",
  "manage.cancelScheduled": "A cancellation is already scheduled for {date}.",

  "add.title": "Add seats",
  "add.seatsLabel": "New total number of seats",
  "add.prorata": "Due now, pro rata for the rest of the current period (to {date})",
  "add.cardLabel": "Card to charge",
  "add.noCard": "Add a card under Payment and billing first.",
  "add.reductionPending": "A seat reduction is scheduled. Undo it first, then add seats.",
  "add.done": "Seats added: {seats} seats from now on. {amount} paid.",

  "fewer.title": "Fewer licences",
  "fewer.seatsLabel": "Paid users for the next subscription period",
  "fewer.dialogTitle": "Reduce to {seats} seats?",
  "fewer.done": "Reduction requested: {seats} seats from {date}.",

  "cancel.dialogTitle": "Cancel the subscription?",
  "cancel.reason": "Why are you cancelling? (optional)",
  "cancel.done": "Cancellation requested: the subscription ends on {date}.",
  "undoReduction.dialogTitle": "Undo the reduction?",
  "undoReduction.done": "The reduction was undone: {seats} seats stay.",
  "undoCancellation.dialogTitle": "Undo the cancellation?",
  "undoCancellation.done": "The cancellation was undone: the subscription continues.",
  "ack.loading": "Loading the terms …",

  "upgrade.title": "Ask for an upgrade",
  "upgrade.message": "Message to your account manager (optional)",
  "upgrade.done": "Your request was sent. {name} ({email}) will contact you.",

  "billing.title": "Payment and billing",
  "billing.infoTitle": "Billing information",
  "billing.saved": "Billing information saved.",
  "billing.updated": "Last saved {when}",
  "billing.none": "No billing information yet.",
  "field.company_name": "Company name",
  "field.email": "Billing e-mail",
  "field.address_line1": "Address",
  "field.address_line2": "Address line 2 (optional)",
  "field.postal_code": "Postal code",
  "field.city": "City",
  "field.region": "Region (optional)",
  "field.country": "Country (two-letter code, e.g. SE)",
  "field.vat_id": "VAT ID (optional)",
  "field.po_reference": "Purchase order reference (optional)",

  "cards.title": "Payment methods",
  "cards.none": "No cards yet.",
  "cards.default": "Default",
  "cards.expires": "Expires {month}/{year}",
  "cards.label": "{brand} ending in {last4}",
  "cards.removeTitle": "Remove credit card?",
  "cards.removeText": "{card} will be removed from this organisation.",
  "cards.removed": "The card was removed.",
  "cards.defaultSet": "{card} is now the default payment method.",
  "cards.added": "{card} was added.",
  "cards.unavailable": "Cards cannot be managed on this server yet.",
  "card.formTitle": "New credit card",
  "card.name": "Name on card",
  "card.number": "Card number",
  "card.expMonth": "Expiry month",
  "card.expYear": "Expiry year",
  "card.cvc": "CVC",
  "card.sandbox": "Sandbox payments: use the test card 4242 4242 4242 4242 with any future expiry date and any CVC. No real money moves.",

  "invoices.title": "Invoices",
  "invoices.none": "No invoices yet.",
  "invoices.number": "Invoice",
  "invoices.issued": "Issued",
  "invoices.period": "Period",
  "invoices.total": "Total",
  "invoices.status": "Status",
  "invoices.actions": "Actions",
  "invoices.paid": "Invoice {number} paid.",
  "invoices.payTitle": "Pay invoice {number}",
  "invoices.downloading": "Your download of invoice {number} has started.",
  "invoices.unavailable": "Invoices are not available on this server yet.",
  "invoice.status.open": "Open",
  "invoice.status.paid": "Paid",
  "invoice.status.uncollectible": "Uncollectible",
  "invoice.title": "Invoice {number}",
  "invoice.lines": "Lines",
  "invoice.description": "Description",
  "invoice.quantity": "Quantity",
  "invoice.unit": "Unit price",
  "invoice.amount": "Amount",
  "invoice.paidWith": "Paid with {card}.",

  "users.title": "Users",
  "users.intro": "Users with an assigned licence. After you remove a user the licence count takes two minutes to catch up.",
  "users.email": "E-mail",
  "users.status": "Status",
  "users.assigned": "Assigned",
  "users.status.active": "Active",
  "users.status.removed": "Removed",
  "users.assignLabel": "E-mail of the user to assign a licence to",
  "users.removeTitle": "Remove {email}?",
  "users.removeText": "The user loses their licence. The licence count catches up after two minutes.",
  "users.assignedDone": "{email} has a licence now.",
  "users.removedDone": "{email} was removed.",

  "activity.title": "Activity",
  "activity.none": "Nothing has happened yet.",
  "activity.when": "When",
  "activity.what": "What",
  "activity.who": "Who",

  "error.title": "Something went wrong",
  "error.network": "The portal cannot reach the server. Check your connection and try again.",
  "error.unauthorized": "Your sign-in has expired. Please sign in again.",
  "error.forbidden": "Only the organisation's service account owner can use this portal.",
  "error.notFound": "This was not found. It may have been removed.",
  "error.routeMissing": "This part of the portal is not available on this server yet.",
  "error.server": "Something went wrong on our side. Nothing was changed. Please try again in a moment.",
  "error.unavailable": "The payment service is busy. Please try again; you will not be charged twice.",
  "error.badResponse": "The server sent an answer the portal does not understand.",
  "error.field": "{field}: {message}",
  "error.unknownView": "There is no such page.",
};

const sv = {
  "app.title": "Mitt konto",
  "app.skip": "Hoppa till innehållet",
  "app.loading": "Laddar …",
  "app.retry": "Försök igen",
  "nav.label": "Huvudmeny",
  "nav.subscriptions": "Prenumerationer",
  "nav.billing": "Betalning och fakturering",
  "nav.invoices": "Fakturor",
  "nav.users": "Användare",
  "nav.activity": "Aktivitet",
  "lang.label": "Språk",
  "signout": "Logga ut",
  "signedin.as": "Inloggad på {tenant}",

  "signin.title": "Logga in",
  "signin.intro": "Det här är den lokala körningen: välj en demoorganisation för att logga in som ägare av dess servicekonto. I en driftsatt portal loggar organisationens identitetsleverantör in dig i stället.",
  "signin.button": "Logga in som ägare av {name}",
  "signin.external": "Loggar in via din identitetsleverantör …",
  "signin.expired": "Din inloggning har gått ut. Logga in igen.",
  "signin.notConfigured": "Portalen har inget sätt att logga in konfigurerat. Se docs/portal.md (portal/config.js).",
  "signin.users": "{n} användare",

  "edition.business": "Business",
  "edition.enterprise": "Enterprise",
  "term.monthly": "Månadsvis",
  "term.annual": "Årsvis",
  "status.active": "Aktiv",
  "status.past_due": "Betalning försenad",
  "status.ended": "Avslutad",
  "channel.reseller": "via återförsäljare",

  "subs.title": "Prenumerationer",
  "subs.none": "Organisationen har inga prenumerationer.",
  "tile.seats": "Licenser som används",
  "tile.seatsValue": "{active} av {seats}",
  "tile.period": "Nuvarande period",
  "tile.status": "Status",
  "tile.reduction": "Minskas till {seats} licenser den {date}.",
  "tile.cancellation": "Avslutas den {date}. Allt fungerar som vanligt fram till dess.",
  "tile.renewal": "Nästa period är betald: {seats} licenser, {start} – {end}.",
  "tile.ended": "Avslutades den {date}.",
  "tile.pastDue": "En betalning misslyckades. Betala den obetalda fakturan för att behålla prenumerationen.",
  "tile.pastDueLink": "Gå till fakturor",
  "tile.managedByAccountManager": "Ändringar av prenumerationen görs via din kontoansvarige, {name} ({email}).",
  "tile.managedByReseller": "Ändringar av prenumerationen görs via din återförsäljare, {name} ({email}).",
  "tile.readOnly": "Skrivskyddad",

  "btn.renew": "Förnya",
  "btn.manage": "Hantera",
  "btn.undo": "Ångra begäran",
  "btn.fewer": "Färre licenser",
  "btn.addSeats": "Lägg till licenser",
  "btn.cancelSubscription": "Avbryt prenumeration",
  "btn.upgrade": "Begär uppgradering",
  "btn.understand": "Jag förstår",
  "btn.confirm": "Bekräfta",
  "btn.notNow": "Inte nu",
  "btn.pay": "Betala",
  "btn.payAmount": "Betala {amount}",
  "btn.continue": "Fortsätt",
  "btn.back": "Tillbaka",
  "btn.addPaymentMethod": "Lägg till ny betalningsmetod",
  "btn.addCard": "Lägg till kreditkort",
  "btn.makeDefault": "Använd som standardbetalningsmetod",
  "btn.remove": "Ta bort",
  "btn.save": "Spara",
  "btn.send": "Skicka",
  "btn.download": "Hämta PDF",
  "btn.details": "Detaljer",
  "btn.payNow": "Betala nu",
  "btn.loadMore": "Visa fler",
  "btn.assign": "Tilldela licens",
  "btn.backToSubscriptions": "Tillbaka till prenumerationer",
  "btn.close": "Stäng",

  "seats.label": "Betalda användare",
  "seats.decrease": "En licens färre",
  "seats.increase": "En licens till",
  "seats.floor": "Du kan inte minska antalet licenser till mindre än antalet aktiva användare ({n}). Ta bort användarna först och vänta minst två minuter innan du fortsätter.",
  "quote.monthly": "Månadskostnad",
  "quote.perMonth": "{amount} per månad",
  "quote.tier": "Licens {first}–{last}: {seats} × {unit}",
  "quote.dueNow": "Att betala nu",
  "quote.subtotal": "Delsumma",
  "quote.vat": "Moms {rate} %",
  "quote.reverseCharge": "Omvänd skattskyldighet: köparen redovisar momsen.",
  "quote.total": "Totalt",
  "quote.effective": "Gäller från {date}.",
  "quote.updating": "Uppdaterar priset …",

  "renew.title": "Förnya {plan}",
  "renew.steps": "Steg",
  "renew.step.seats": "Licenser",
  "renew.step.payment": "Betalning",
  "renew.step.overview": "Översikt",
  "renew.seatsLabel": "Antal betalda användare för förnyelseperioden",
  "renew.period": "Förnyelseperiod",
  "renew.paymentTitle": "Betalning",
  "renew.paymentIntro": "Om du vill använda kreditkortet som är registrerat ska du se till att det är valt. Om du vill lägga till ett nytt kreditkort klickar du på Lägg till ny betalningsmetod.",
  "renew.overviewTitle": "Översikt",
  "renew.overviewIntro": "Bekräfta ditt val och klicka på Betala.",
  "renew.seats": "Licenser",
  "renew.card": "Kort",
  "renew.done": "Förnyad: {seats} licenser från {start} till {end}. {amount} betalt.",
  "renew.ended": "Prenumerationen har avslutats; en förnyelse startar en ny period när betalningen görs.",

  "manage.title": "Hantera {plan}",
  "manage.intro": "Välj en ändring. Ändringar av antalet licenser och uppsägningar kan ångras tills de börjar gälla.",
  "manage.addSeats.text": "Lägg till licenser nu. Du betalar för de nya licenserna proportionerligt för resten av perioden.",
  "manage.fewer.text": "Färre licenser från början av nästa prenumerationsperiod. Fram till dess förblir dina nuvarande licenser tillgängliga.",
  "manage.cancel.text": "Prenumerationen avbryts i slutet av den sista betalda perioden. Fram till dess kan du fortsätta att använda den.",
  "manage.upgrade.text": "Byt till kapacitetsbaserad analys. Din kontoansvarige, {name}, tar emot begäran.",
  "manage.cancelScheduled": "En uppsägning är redan planerad till {date}.",

  "add.title": "Lägg till licenser",
  "add.seatsLabel": "Nytt totalt antal licenser",
  "add.prorata": "Att betala nu, proportionerligt för resten av perioden (till {date})",
  "add.cardLabel": "Kort att debitera",
  "add.noCard": "Lägg först till ett kort under Betalning och fakturering.",
  "add.reductionPending": "En minskning av antalet licenser är planerad. Ångra den först och lägg sedan till licenser.",
  "add.done": "Licenser tillagda: {seats} licenser från och med nu. {amount} betalt.",

  "fewer.title": "Färre licenser",
  "fewer.seatsLabel": "Antal betalda användare för nästa prenumerationsperiod",
  "fewer.dialogTitle": "Minska till {seats} licenser?",
  "fewer.done": "Minskning begärd: {seats} licenser från {date}.",

  "cancel.dialogTitle": "Avbryta prenumerationen?",
  "cancel.reason": "Varför avbryter du? (valfritt)",
  "cancel.done": "Uppsägning begärd: prenumerationen avslutas den {date}.",
  "undoReduction.dialogTitle": "Ångra minskningen?",
  "undoReduction.done": "Minskningen är ångrad: {seats} licenser finns kvar.",
  "undoCancellation.dialogTitle": "Ångra uppsägningen?",
  "undoCancellation.done": "Uppsägningen är ångrad: prenumerationen fortsätter.",
  "ack.loading": "Hämtar villkoren …",

  "upgrade.title": "Begär uppgradering",
  "upgrade.message": "Meddelande till din kontoansvarige (valfritt)",
  "upgrade.done": "Din begäran har skickats. {name} ({email}) kontaktar dig.",

  "billing.title": "Betalning och fakturering",
  "billing.infoTitle": "Faktureringsinformation",
  "billing.saved": "Faktureringsinformationen har sparats.",
  "billing.updated": "Senast sparad {when}",
  "billing.none": "Ingen faktureringsinformation ännu.",
  "field.company_name": "Företagsnamn",
  "field.email": "E-post för fakturor",
  "field.address_line1": "Adress",
  "field.address_line2": "Adressrad 2 (valfritt)",
  "field.postal_code": "Postnummer",
  "field.city": "Ort",
  "field.region": "Region (valfritt)",
  "field.country": "Land (landskod med två bokstäver, t.ex. SE)",
  "field.vat_id": "Momsregistreringsnummer (valfritt)",
  "field.po_reference": "Inköpsordernummer (valfritt)",

  "cards.title": "Betalningsmetoder",
  "cards.none": "Inga kort ännu.",
  "cards.default": "Standard",
  "cards.expires": "Går ut {month}/{year}",
  "cards.label": "{brand} som slutar på {last4}",
  "cards.removeTitle": "Ta bort kreditkort?",
  "cards.removeText": "{card} tas bort från organisationen.",
  "cards.removed": "Kortet har tagits bort.",
  "cards.defaultSet": "{card} är nu standardbetalningsmetod.",
  "cards.added": "{card} har lagts till.",
  "cards.unavailable": "Kort kan inte hanteras på den här servern ännu.",
  "card.formTitle": "Nytt kreditkort",
  "card.name": "Namn på kortet",
  "card.number": "Kortnummer",
  "card.expMonth": "Utgångsmånad",
  "card.expYear": "Utgångsår",
  "card.cvc": "CVC",
  "card.sandbox": "Testbetalningar: använd testkortet 4242 4242 4242 4242 med valfritt framtida utgångsdatum och valfri CVC. Inga riktiga pengar dras.",

  "invoices.title": "Fakturor",
  "invoices.none": "Inga fakturor ännu.",
  "invoices.number": "Faktura",
  "invoices.issued": "Utfärdad",
  "invoices.period": "Period",
  "invoices.total": "Totalt",
  "invoices.status": "Status",
  "invoices.actions": "Åtgärder",
  "invoices.paid": "Faktura {number} är betald.",
  "invoices.payTitle": "Betala faktura {number}",
  "invoices.downloading": "Hämtningen av faktura {number} har startat.",
  "invoices.unavailable": "Fakturor finns inte på den här servern ännu.",
  "invoice.status.open": "Obetald",
  "invoice.status.paid": "Betald",
  "invoice.status.uncollectible": "Ej indrivningsbar",
  "invoice.title": "Faktura {number}",
  "invoice.lines": "Rader",
  "invoice.description": "Beskrivning",
  "invoice.quantity": "Antal",
  "invoice.unit": "À-pris",
  "invoice.amount": "Belopp",
  "invoice.paidWith": "Betald med {card}.",

  "users.title": "Användare",
  "users.intro": "Användare med tilldelad licens. När du tar bort en användare tar det två minuter innan antalet licenser uppdateras.",
  "users.email": "E-post",
  "users.status": "Status",
  "users.assigned": "Tilldelad",
  "users.status.active": "Aktiv",
  "users.status.removed": "Borttagen",
  "users.assignLabel": "E-post för användaren som ska få en licens",
  "users.removeTitle": "Ta bort {email}?",
  "users.removeText": "Användaren förlorar sin licens. Antalet licenser uppdateras efter två minuter.",
  "users.assignedDone": "{email} har nu en licens.",
  "users.removedDone": "{email} har tagits bort.",

  "activity.title": "Aktivitet",
  "activity.none": "Inget har hänt ännu.",
  "activity.when": "När",
  "activity.what": "Vad",
  "activity.who": "Vem",

  "error.title": "Något gick fel",
  "error.network": "Portalen når inte servern. Kontrollera anslutningen och försök igen.",
  "error.unauthorized": "Din inloggning har gått ut. Logga in igen.",
  "error.forbidden": "Bara organisationens ägare av servicekontot kan använda portalen.",
  "error.notFound": "Det här hittades inte. Det kan ha tagits bort.",
  "error.routeMissing": "Den här delen av portalen finns inte på den här servern ännu.",
  "error.server": "Något gick fel hos oss. Inget har ändrats. Försök igen om en stund.",
  "error.unavailable": "Betaltjänsten är upptagen. Försök igen; du debiteras inte två gånger.",
  "error.badResponse": "Servern skickade ett svar som portalen inte förstår.",
  "error.field": "{field}: {message}",
  "error.unknownView": "Sidan finns inte.",
};

// Swedish wording of the API's refusals, by error code. English shows the API's own message, which is
// already written for people; these are used when the portal speaks Swedish and fall back to it.
const svErrors = {
  below_active_users: "{active_users} användare är aktiva. Ta bort användare först och vänta två minuter innan antalet licenser uppdateras.",
  seat_limit_exceeded: "Planen tillåter högst {max_seats} licenser.",
  invalid_seat_count: "Det antalet licenser går inte att välja här.",
  no_free_seats: "Alla licenser används. Lägg till licenser först.",
  seat_reduction_pending: "En minskning av antalet licenser är planerad. Ångra den först.",
  renewal_already_paid: "Nästa period är redan betald; dess licenser kan inte minskas.",
  already_renewed: "Nästa period är redan förnyad.",
  cancellation_scheduled: "En uppsägning är redan planerad.",
  nothing_scheduled: "Det finns ingen begäran att ångra.",
  change_already_effective: "Ändringen har redan börjat gälla och kan inte ångras.",
  period_closing: "Perioden håller på att avslutas. Försök igen om några minuter.",
  subscription_not_active: "Prenumerationen är inte aktiv.",
  invoice_open: "Det finns en obetald faktura. Betala den först.",
  managed_by_account_manager: "Ändringar görs via din kontoansvarige, {name} ({email}).",
  managed_by_reseller: "Ändringar görs via din återförsäljare, {name} ({email}).",
  user_exists: "Användaren har redan en licens.",
  user_already_removed: "Användaren är redan borttagen.",
  no_active_subscription: "Organisationen har ingen aktiv prenumeration.",
  card_declined: "Kortet nekades. Inget har debiterats. Välj ett annat kort.",
  insufficient_funds: "Kortet nekades: otillräckligt saldo. Inget har debiterats.",
  gateway_unavailable: "Betaltjänsten svarar inte just nu. Försök igen; du debiteras inte två gånger.",
  payment_in_progress: "En betalning pågår redan. Vänta en stund och försök igen.",
  request_in_progress: "Begäran behandlas redan. Vänta en stund och försök igen.",
  price_changed: "Priset har ändrats sedan du såg det. Inget har debiterats; kontrollera det nya priset.",
  default_payment_method: "Standardbetalningsmetoden kan inte tas bort. Ange en annan betalningsmetod som standard först.",
  card_expired: "Kortet har gått ut.",
  no_payment_method: "Det finns inget kort att debitera. Lägg till en betalningsmetod först.",
  idempotency_key_reused: "Begäran har redan skickats med andra uppgifter. Ladda om sidan och försök igen.",
  acknowledgement_required: "Markera rutan Jag förstår för att bekräfta ändringen.",
  concurrent_update: "Någon annan ändrade samma sak samtidigt. Ladda om och försök igen.",
  validation_error: "Uppgifterna är inte giltiga.",
  not_found: "Det här hittades inte.",
};

const dictionaries = { en, sv };
const locales = { en: "en-GB", sv: "sv-SE" };
export const languages = [
  { code: "en", name: "English" },
  { code: "sv", name: "Svenska" },
];

const STORAGE_KEY = "selfservice.lang";
let current = (() => {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (stored in dictionaries) return stored;
  } catch { /* storage may be unavailable */ }
  return (navigator.language || "en").toLowerCase().startsWith("sv") ? "sv" : "en";
})();

export function lang() {
  return current;
}

export function setLang(code) {
  if (!(code in dictionaries)) return;
  current = code;
  try { localStorage.setItem(STORAGE_KEY, code); } catch { /* ignore */ }
  document.documentElement.lang = code;
}

function fill(text, params) {
  return text.replace(/\{(\w+)\}/g, (whole, name) => (params && params[name] != null ? String(params[name]) : whole));
}

export function t(key, params) {
  const text = dictionaries[current][key] ?? en[key] ?? key;
  return fill(text, params);
}

// Swedish words for an API error code, or null (then the API's own message is shown).
export function errorWords(code, details) {
  if (current !== "sv" || !code || !(code in svErrors)) return null;
  const flat = { ...(details || {}) };
  for (const [k, v] of Object.entries(details || {})) {
    if (v && typeof v === "object" && !Array.isArray(v)) Object.assign(flat, v);
  }
  const text = fill(svErrors[code], flat);
  return /\{\w+\}/.test(text) ? null : text;
}

// Swedish wording of an acknowledgement by its version; the API's English text otherwise. The version
// sent back is always the API's, so the record says which wording was agreed to.
const svWordings = {
  "seat-reduction/2026-01": "Minskningen gäller från början av nästa prenumerationsperiod. Fram till dess förblir dina nuvarande licenser tillgängliga. Du kan när som helst ångra minskningen fram till slutet på perioden.",
  "seat-reduction-undo/2026-01": "Prenumerationen behåller sitt nuvarande antal licenser i nästa period och förnyas med den storleken.",
  "cancellation/2026-01": "Prenumerationen avslutas i slutet av den sista betalda perioden. Fram till dess fungerar allt som vanligt. Efter det datumet förlorar organisationen och dess användare åtkomst. Du kan ångra uppsägningen tills den börjar gälla.",
  "cancellation-undo/2026-01": "Prenumerationen fortsätter och förnyas i slutet av den nuvarande perioden.",
};

export function wordingText(ack) {
  if (!ack) return "";
  if (current === "sv" && svWordings[ack.version]) return svWordings[ack.version];
  return ack.text || "";
}

// Money arrives in minor units (cents, öre) with its ISO-4217 currency; the currency says how many
// decimals it has.
export function money(minor, currency) {
  if (minor == null || !currency) return "";
  const format = new Intl.NumberFormat(locales[current], { style: "currency", currency });
  const digits = format.resolvedOptions().maximumFractionDigits;
  return format.format(Number(minor) / 10 ** digits);
}

export function date(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locales[current], { dateStyle: "medium", timeZone: "UTC" }).format(new Date(iso));
}

export function dateTime(iso) {
  if (!iso) return "";
  return new Intl.DateTimeFormat(locales[current], { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" })
    .format(new Date(iso)) + " UTC";
}

const BRANDS = { visa: "Visa", mastercard: "Mastercard", amex: "American Express", american_express: "American Express" };

export function brandName(brand) {
  if (!brand) return "";
  return BRANDS[String(brand).toLowerCase()] || String(brand).replace(/^\w/, (c) => c.toUpperCase());
}

export function cardLabel(card) {
  return t("cards.label", { brand: brandName(card.brand), last4: card.last4 });
}

export function planName(sub) {
  return `${t(`edition.${sub.edition}`)} (${t(`term.${sub.term}`).toLowerCase()})`;
}
