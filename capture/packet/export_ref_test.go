package packet

// RefParse is the reference parser (parse_ref_test.go) for the external
// tests.
var RefParse = refParse
