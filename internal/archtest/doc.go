// Package archtest makes the architecture's dependency rules fail the build.
//
// The rules are the table in rules_test.go: each says which packages it
// governs, which imports it refuses, why, and which packages are exempt
// and why. TestDependencyRules (run by `make test`, like every test) loads
// the module's import graph with one `go list -deps -json ./...` and
// reports every import that breaks a rule, naming the importer, the import
// and the reason:
//
//	go test ./internal/archtest
//
// To add a rule, add a row to the table; TestRuleChecker shows, on made-up
// import graphs, how a row behaves. Only production imports count (a
// package's Imports, not its TestImports): tests may use emulators, test
// helpers and anything else they need.
//
// The package has no production code; this file only documents it.
package archtest
