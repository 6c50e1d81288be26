package acp

import (
	"errors"
	"fmt"
)

// selectedOptions resolves the selected option ids.
func (s *Session) selectedOptions() ([]FulfillmentOption, error) {
	var out []FulfillmentOption
	for i, sel := range s.SelectedFulfillment {
		found := false
		for _, o := range s.FulfillmentOptions {
			if o.ID == sel.OptionID {
				out = append(out, o)
				found = true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("selected fulfillment %d: option %q is not among the fulfillment options", i, sel.OptionID)
		}
	}
	return out, nil
}

// Validate checks the session against the rules of the schemas and the RFC
// that hold in every version. EncodeSession calls it, then adds the checks
// of the version.
func (s *Session) Validate() error {
	if s == nil {
		return errors.New("acp: session is nil")
	}
	if err := s.validate(); err != nil {
		return fmt.Errorf("acp: session %q: %w", s.ID, err)
	}
	return nil
}

func (s *Session) validate() error {
	if err := s.validateHeader(); err != nil {
		return err
	}
	itemIDs, err := s.validateLines()
	if err != nil {
		return err
	}
	if err := s.FulfillmentDetails.validate(); err != nil {
		return err
	}
	optionIDs := map[string]bool{}
	for i, o := range s.FulfillmentOptions {
		if err := o.Validate(); err != nil {
			return fmt.Errorf("fulfillment_options[%d]: %w", i, err)
		}
		if optionIDs[o.ID] {
			return fmt.Errorf("fulfillment_options[%d]: duplicate option id %q", i, o.ID)
		}
		optionIDs[o.ID] = true
	}
	selected, err := s.selectedOptions()
	if err != nil {
		return err
	}
	if err := s.validateSelection(itemIDs); err != nil {
		return err
	}
	if _, err := s.Totals(); err != nil {
		return err
	}
	if err := s.validateExtras(); err != nil {
		return err
	}
	return s.validateState(selected)
}

// validateHeader checks the session's id, status, currency and buyer.
func (s *Session) validateHeader() error {
	if s.ID == "" {
		return errors.New("id is empty")
	}
	if !s.Status.Valid() {
		return fmt.Errorf("unknown status %q", s.Status)
	}
	if _, ok := NormalizeCurrency(s.Currency); !ok {
		return fmt.Errorf("currency %q is not an ISO 4217 code", s.Currency)
	}
	if b := s.Buyer; b != nil {
		if b.Email != "" && !ValidEmail(b.Email) {
			return fmt.Errorf("buyer email %q is not valid", b.Email)
		}
		if b.PhoneNumber != "" {
			if _, ok := NormalizePhone(b.PhoneNumber); !ok {
				return fmt.Errorf("buyer phone number %q is not valid", b.PhoneNumber)
			}
		}
	}
	return nil
}

// validateLines checks the lengths of the session's lists and each line
// item, whose ids are unique; it returns the set of their item ids.
func (s *Session) validateLines() (map[string]bool, error) {
	if len(s.LineItems) == 0 || len(s.LineItems) > MaxLineItems {
		return nil, fmt.Errorf("a session has 1 to %d line items, not %d", MaxLineItems, len(s.LineItems))
	}
	if len(s.FulfillmentOptions) > MaxListLen || len(s.Fees) > MaxListLen || len(s.Messages) > MaxListLen {
		return nil, fmt.Errorf("at most %d fulfillment options, fees and messages", MaxListLen)
	}
	lineIDs := map[string]bool{}
	itemIDs := map[string]bool{}
	for i, l := range s.LineItems {
		if err := l.Validate(); err != nil {
			return nil, fmt.Errorf("line_items[%d]: %w", i, err)
		}
		if lineIDs[l.ID] {
			return nil, fmt.Errorf("line_items[%d]: duplicate line id %q", i, l.ID)
		}
		lineIDs[l.ID] = true
		itemIDs[l.ItemID] = true
	}
	return itemIDs, nil
}

// validate checks the fulfillment details' email, phone number and
// address; nil details are valid.
func (fd *FulfillmentDetails) validate() error {
	if fd == nil {
		return nil
	}
	if fd.Email != "" && !ValidEmail(fd.Email) {
		return fmt.Errorf("fulfillment email %q is not valid", fd.Email)
	}
	if fd.PhoneNumber != "" {
		if _, ok := NormalizePhone(fd.PhoneNumber); !ok {
			return fmt.Errorf("fulfillment phone number %q is not valid", fd.PhoneNumber)
		}
	}
	if fd.Address != nil {
		if err := fd.Address.validate(); err != nil {
			return fmt.Errorf("fulfillment address: %w", err)
		}
	}
	return nil
}

// validateSelection checks that the selected fulfillments cover line items
// (itemIDs), each at most once, and that several selections each name
// their items.
func (s *Session) validateSelection(itemIDs map[string]bool) error {
	covered := map[string]bool{}
	for i, sel := range s.SelectedFulfillment {
		for _, id := range sel.ItemIDs {
			if !itemIDs[id] {
				return fmt.Errorf("selected fulfillment %d: item %q is not in the line items", i, id)
			}
			if covered[id] {
				return fmt.Errorf("selected fulfillment %d: item %q is covered twice", i, id)
			}
			covered[id] = true
		}
		if len(sel.ItemIDs) == 0 && len(s.SelectedFulfillment) > 1 {
			return fmt.Errorf("selected fulfillment %d: with several selections each must name its item ids", i)
		}
	}
	return nil
}

// validateExtras checks the messages, links, payment handlers, continue
// URL and authentication metadata.
func (s *Session) validateExtras() error {
	if err := s.Discounts.validate(); err != nil {
		return err
	}
	for i, m := range s.Messages {
		if err := m.Validate(); err != nil {
			return fmt.Errorf("messages[%d]: %w", i, err)
		}
	}
	for i, l := range s.Links {
		if _, ok := linkTypes[l.Type]; !ok {
			return fmt.Errorf("links[%d]: unknown type %q", i, l.Type)
		}
		if !validURL(l.URL) {
			return fmt.Errorf("links[%d]: %q is not an absolute http(s) URL", i, l.URL)
		}
	}
	for i, h := range s.PaymentHandlers {
		if err := h.validate(); err != nil {
			return fmt.Errorf("payment handler %d: %w", i, err)
		}
	}
	if s.ContinueURL != "" && !validURL(s.ContinueURL) {
		return fmt.Errorf("continue URL %q is not an absolute http(s) URL", s.ContinueURL)
	}
	if s.AuthenticationMetadata != nil {
		if err := s.AuthenticationMetadata.validate(); err != nil {
			return fmt.Errorf("authentication metadata: %w", err)
		}
	}
	return nil
}

// validateState checks what the session's status needs (selected are its
// selected fulfillment options), and that only a completed session
// carries an order, a valid one.
func (s *Session) validateState(selected []FulfillmentOption) error {
	switch s.Status {
	case StatusCompleted:
		if s.Order == nil {
			return errors.New("a completed session carries its order")
		}
	case StatusAuthenticationRequired:
		if s.AuthenticationMetadata == nil {
			return errors.New("authentication_required needs authentication metadata (RFC §8)")
		}
	case StatusReadyForPayment:
		if len(s.PaymentHandlers) == 0 {
			return errors.New("ready_for_payment needs a payment handler")
		}
		if len(s.FulfillmentOptions) > 0 && len(selected) == 0 {
			return errors.New("ready_for_payment needs a selected fulfillment option")
		}
		for _, o := range selected {
			if o.Type == FulfillmentShipping && (s.FulfillmentDetails == nil || s.FulfillmentDetails.Address == nil) {
				return errors.New("ready_for_payment with shipping needs a fulfillment address")
			}
		}
	}
	if s.Order != nil {
		if s.Status != StatusCompleted {
			return fmt.Errorf("only a completed session carries an order, not one %s", s.Status)
		}
		if err := s.Order.validate(s.ID); err != nil {
			return fmt.Errorf("order: %w", err)
		}
	}
	return nil
}

var linkTypes = map[LinkType]struct{}{
	LinkTypeTermsOfUse: {}, LinkTypePrivacyPolicy: {}, LinkTypeReturnPolicy: {}, LinkTypeShippingPolicy: {},
	LinkTypeContactUs: {}, LinkTypeAboutUs: {}, LinkTypeFAQ: {}, LinkTypeSupport: {},
}

func validCountry(s string) bool {
	_, ok := NormalizeCountry(s)
	return ok
}

func (a *Address) validate() error {
	switch {
	case a.Name == "" || a.LineOne == "" || a.City == "":
		return errors.New("name, line one and city are required")
	}
	if _, ok := NormalizeCountry(a.Country); !ok {
		return fmt.Errorf("country %q is not an ISO 3166-1 alpha-2 code", a.Country)
	}
	return nil
}
