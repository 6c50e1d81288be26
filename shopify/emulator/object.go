package emulator

import (
	"bytes"
	"encoding/json"
)

// object is a projected GraphQL object: its fields in selection order, which
// encoding/json maps would lose. It also remembers what the bulk JSONL
// writer needs: the source id and, for connections, the projected items.
type object struct {
	fields []objField
	id     string    // the source object's id, even when not selected
	conn   bool      // a connection
	items  []*object // a connection's nodes, from edges.node or nodes
}

type objField struct {
	key  string // response key (alias or name)
	name string // schema field name
	val  any
}

func (o *object) add(key, name string, val any) {
	o.fields = append(o.fields, objField{key: key, name: name, val: val})
}

// get returns a field's value by response key.
func (o *object) get(key string) (any, bool) {
	for _, f := range o.fields {
		if f.key == key {
			return f.val, true
		}
	}
	return nil, false
}

// MarshalJSON writes the fields in order.
func (o *object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, f := range o.fields {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := marshalRaw(f.key)
		if err != nil {
			return nil, err
		}
		v, err := marshalRaw(f.val)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// marshalRaw is json.Marshal without HTML escaping: Shopify sends
// descriptionHtml as "<p>…", not "\u003cp\u003e…".
func marshalRaw(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
