// The one place a deployment changes (docs/portal.md): where the API is and how the portal gets the
// bearer token for it.
export default {
  // Base URL of the HTTP API without a trailing slash; "" means the origin the portal is served from
  // (the local run serves both). A deployment writes the stack's ApiUrl output here.
  apiBaseUrl: "",

  // "local": the "sign in as" screen of the local run (GET /_local/tenants, POST /_local/tokens).
  // "external": getToken() below returns the access token from the organisation's identity provider.
  signIn: "local",

  // Only for signIn "external": resolve to a JWT whose claims carry sub, tenant_id and roles (with
  // service_account_owner), issued by the template's JwtIssuer for its JwtAudience; null when the
  // person is not signed in (then signInUrl is opened).
  async getToken() {
    return null;
  },
  signInUrl: "",
};
