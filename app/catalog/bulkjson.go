package catalog

import "github.com/acpbridge/acpbridge/app"

// decodeBulkLine decodes one line of a catalog bulk export into l the way
// encoding/json would, several times faster: it knows the few shapes
// Shopify writes (bulkLine's fields, each at most once, with their JSON
// types) and gives up on anything else, returning false, for
// encoding/json to decode instead. So a line it accepts decodes exactly
// as json.Unmarshal decodes it (FuzzBulkLineDecoder checks this), and
// every other line, malformed ones included, is json.Unmarshal's.
func decodeBulkLine(data []byte, l *bulkLine) bool {
	d := lineDecoder{data: data}
	if !d.object(d.topField, l) {
		return false
	}
	d.ws()
	return d.i == len(d.data)
}

type lineDecoder struct {
	data []byte
	i    int
}

// once marks bit in seen, reporting false when it was already set.
func once(seen *uint64, bit uint) bool {
	if *seen&(1<<bit) != 0 {
		return false
	}
	*seen |= 1 << bit
	return true
}

func (d *lineDecoder) topField(_ *lineDecoder, key []byte, seen *uint64, l *bulkLine) bool {
	switch string(key) {
	case "id":
		return once(seen, 0) && d.str(&l.ID)
	case "__parentId":
		return once(seen, 1) && d.str(&l.ParentID)
	case "handle":
		return once(seen, 2) && d.str(&l.Handle)
	case "title":
		return once(seen, 3) && d.str(&l.Title)
	case "descriptionHtml":
		return once(seen, 4) && d.str(&l.DescriptionHTML)
	case "vendor":
		return once(seen, 5) && d.str(&l.Vendor)
	case "productType":
		return once(seen, 6) && d.str(&l.ProductType)
	case "status":
		return once(seen, 7) && d.str(&l.Status)
	case "onlineStoreUrl":
		return once(seen, 8) && d.strPtr(&l.OnlineStoreURL)
	case "updatedAt":
		return once(seen, 9) && d.str(&l.UpdatedAt)
	case "tags":
		return once(seen, 10) && d.strings(&l.Tags)
	case "category":
		if !once(seen, 11) {
			return false
		}
		if d.null() {
			l.Category = nil
			return true
		}
		l.Category = &struct{ FullName string }{}
		var s uint64
		return d.object(func(d *lineDecoder, key []byte, _ *uint64, _ *bulkLine) bool {
			return string(key) == "fullName" && once(&s, 0) && d.str(&l.Category.FullName)
		}, l)
	case "sku":
		return once(seen, 12) && d.strPtr(&l.SKU)
	case "barcode":
		return once(seen, 13) && d.strPtr(&l.Barcode)
	case "price":
		return once(seen, 14) && d.str(&l.Price)
	case "compareAtPrice":
		return once(seen, 15) && d.strPtr(&l.CompareAtPrice)
	case "availableForSale":
		return once(seen, 16) && d.bool(&l.AvailableForSale)
	case "inventoryQuantity":
		if !once(seen, 17) {
			return false
		}
		if d.null() {
			l.InventoryQty = nil
			return true
		}
		var n int64
		if !d.int(&n) {
			return false
		}
		l.InventoryQty = &n
		return true
	case "inventoryPolicy":
		return once(seen, 18) && d.str(&l.InventoryPolicy)
	case "taxable":
		return once(seen, 19) && d.bool(&l.Taxable)
	case "selectedOptions":
		return once(seen, 20) && d.options(&l.SelectedOptions)
	case "image":
		return once(seen, 21) && d.image(l)
	case "inventoryItem":
		return once(seen, 22) && d.inventoryItem(l)
	}
	return false // a field bulkLine does not have, or in other letter case
}

func (d *lineDecoder) image(l *bulkLine) bool {
	if d.null() {
		l.Image = nil
		return true
	}
	img := &struct {
		URL     string `json:"url"`
		AltText string `json:"altText"`
		Width   int    `json:"width"`
		Height  int    `json:"height"`
	}{}
	l.Image = img
	return d.object(func(d *lineDecoder, key []byte, seen *uint64, _ *bulkLine) bool {
		switch string(key) {
		case "url":
			return once(seen, 0) && d.str(&img.URL)
		case "altText":
			return once(seen, 1) && d.str(&img.AltText)
		case "width":
			return once(seen, 2) && d.intInt(&img.Width)
		case "height":
			return once(seen, 3) && d.intInt(&img.Height)
		}
		return false
	}, l)
}

func (d *lineDecoder) inventoryItem(l *bulkLine) bool {
	if d.null() {
		l.InventoryItem = nil
		return true
	}
	it := &struct {
		ID               string `json:"id"`
		Tracked          bool   `json:"tracked"`
		RequiresShipping bool   `json:"requiresShipping"`
		Measurement      *struct {
			Weight *struct {
				Unit  string  `json:"unit"`
				Value float64 `json:"value"`
			} `json:"weight"`
		} `json:"measurement"`
	}{}
	l.InventoryItem = it
	return d.object(func(d *lineDecoder, key []byte, seen *uint64, _ *bulkLine) bool {
		switch string(key) {
		case "id":
			return once(seen, 0) && d.str(&it.ID)
		case "tracked":
			return once(seen, 1) && d.bool(&it.Tracked)
		case "requiresShipping":
			return once(seen, 2) && d.bool(&it.RequiresShipping)
		case "measurement":
			if !once(seen, 3) {
				return false
			}
			if d.null() {
				it.Measurement = nil
				return true
			}
			it.Measurement = &struct {
				Weight *struct {
					Unit  string  `json:"unit"`
					Value float64 `json:"value"`
				} `json:"weight"`
			}{}
			m := it.Measurement
			return d.object(func(d *lineDecoder, key []byte, seen *uint64, _ *bulkLine) bool {
				if string(key) != "weight" || !once(seen, 0) {
					return false
				}
				if d.null() {
					m.Weight = nil
					return true
				}
				m.Weight = &struct {
					Unit  string  `json:"unit"`
					Value float64 `json:"value"`
				}{}
				w := m.Weight
				return d.object(func(d *lineDecoder, key []byte, seen *uint64, _ *bulkLine) bool {
					switch string(key) {
					case "unit":
						return once(seen, 0) && d.str(&w.Unit)
					case "value":
						return once(seen, 1) && d.float(&w.Value)
					}
					return false
				}, nil)
			}, nil)
		}
		return false
	}, l)
}

// options decodes selectedOptions: null or [{"name": …, "value": …}, …].
func (d *lineDecoder) options(dst *[]app.VariantOption) bool {
	if d.null() {
		*dst = nil
		return true
	}
	if d.next() != '[' {
		return false
	}
	d.i++
	out := make([]app.VariantOption, 0, 3)
	if d.next() == ']' {
		d.i++
		*dst = out
		return true
	}
	for {
		var o app.VariantOption
		ok := d.object(func(d *lineDecoder, key []byte, seen *uint64, _ *bulkLine) bool {
			switch string(key) {
			case "name":
				return once(seen, 0) && d.str(&o.Name)
			case "value":
				return once(seen, 1) && d.str(&o.Value)
			}
			return false
		}, nil)
		if !ok {
			return false
		}
		out = append(out, o)
		switch d.next() {
		case ',':
			d.i++
		case ']':
			d.i++
			*dst = out
			return true
		default:
			return false
		}
	}
}
