package emulator

import (
	"encoding/json"
	"strconv"
)

// intArg reads an Int argument. Literals arrive as int64 and JSON variables
// as float64, so both are accepted.
func intArg(args map[string]any, name string) (int, bool) {
	switch v := args[name].(type) {
	case int:
		return v, true
	case int64:
		return int(v), true
	case float64:
		return int(v), true
	case json.Number:
		n, err := v.Int64()
		return int(n), err == nil
	case string:
		n, err := strconv.Atoi(v)
		return n, err == nil
	}
	return 0, false
}

// stringArg reads a String, ID or enum argument, "" when absent.
func stringArg(args map[string]any, name string) string {
	s, _ := args[name].(string)
	return s
}

// boolArg reads a Boolean argument, false when absent.
func boolArg(args map[string]any, name string) bool {
	b, _ := args[name].(bool)
	return b
}

// stringsArg reads a list of strings or IDs.
func stringsArg(args map[string]any, name string) []string {
	list, _ := args[name].([]any)
	out := make([]string, 0, len(list))
	for _, v := range list {
		if s, ok := v.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// floatArg reads a Float argument.
func floatArg(args map[string]any, name string) (float64, bool) {
	switch v := args[name].(type) {
	case float64:
		return v, true
	case int64:
		return float64(v), true
	case int:
		return float64(v), true
	case json.Number:
		f, err := v.Float64()
		return f, err == nil
	case string:
		f, err := strconv.ParseFloat(v, 64)
		return f, err == nil
	}
	return 0, false
}

// optBool reads an optional Boolean, def when absent or null.
func optBool(args map[string]any, name string, def bool) bool {
	if b, ok := args[name].(bool); ok {
		return b
	}
	return def
}
