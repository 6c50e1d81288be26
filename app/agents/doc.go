// Package agents is how AI agents get into a shop's ACP API and how the
// merchant manages that access: API keys (stored hashed; several live
// during a rotation), authenticating a request's key for the shop in its
// path (Agents.Authenticate, called by the ACP pipeline, app/acpapi), the optional
// request signature (Signature and Timestamp headers, HMAC-SHA256 over
// the raw body or its RFC 8785 canonical form) and its replay check, each signature accepted once per shop
// across replicas (signatures.go), and the merchant's ACP settings: the
// signing and webhook secrets, the agent webhook URL and connecting the
// payment account that charges agent orders (ConnectPayment: the
// provider's PaymentConnector checks the credentials, which are then
// sealed and stored per provider), and the shop's completion method
// (SetCompletionMethod, CompletionMethod): the stored choice resolved
// under the app's distribution (Options.Distribution, APP_DISTRIBUTION),
// so that every settings it hands out (Authenticate's ag.Settings,
// Settings) carry the method the shop actually sells with; StoredSettings
// is the saved record, for read-modify-write.
//
// New builds Agents from its store, the keyring and the payment account
// lookup (new.go); the outbound policy, the distribution and the clock
// are options.
//
// The authenticated identity (app.Agent), the settings record
// (app.ACPSettings) and their sealing AADs are vocabulary in package app:
// checkout and the admin read them. It owns the AgentStore,
// SignatureUseStore and PaymentCredentialStore ports (app/store implements
// them).
//
// Imports: package app (vocabulary), app/secret, app/netguard, acp (for
// acp.JCS, the canonical form a signature may cover) and the standard
// library. It never imports web, app/store, app/jobs, app/service
// or another capability.
package agents
