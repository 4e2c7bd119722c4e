package guardrail

// PIIType is a Bedrock sensitive-information entity type.
type PIIType string

// The 31 PII entity types Bedrock Guardrails support.
const (
	PIIAddress           PIIType = "ADDRESS"
	PIIAge               PIIType = "AGE"
	PIIAWSAccessKey      PIIType = "AWS_ACCESS_KEY"
	PIIAWSSecretKey      PIIType = "AWS_SECRET_KEY"
	PIICAHealthNumber    PIIType = "CA_HEALTH_NUMBER"
	PIICASocialInsurance PIIType = "CA_SOCIAL_INSURANCE_NUMBER"
	PIICardCVV           PIIType = "CREDIT_DEBIT_CARD_CVV"
	PIICardExpiry        PIIType = "CREDIT_DEBIT_CARD_EXPIRY"
	PIICardNumber        PIIType = "CREDIT_DEBIT_CARD_NUMBER"
	PIIDriverID          PIIType = "DRIVER_ID"
	PIIEmail             PIIType = "EMAIL"
	PIIIBAN              PIIType = "INTERNATIONAL_BANK_ACCOUNT_NUMBER"
	PIIIPAddress         PIIType = "IP_ADDRESS"
	PIILicensePlate      PIIType = "LICENSE_PLATE"
	PIIMACAddress        PIIType = "MAC_ADDRESS"
	PIIName              PIIType = "NAME"
	PIIPassword          PIIType = "PASSWORD"
	PIIPhone             PIIType = "PHONE"
	PIIPIN               PIIType = "PIN"
	PIISwiftCode         PIIType = "SWIFT_CODE"
	PIIUKNHSNumber       PIIType = "UK_NATIONAL_HEALTH_SERVICE_NUMBER"
	PIIUKNINumber        PIIType = "UK_NATIONAL_INSURANCE_NUMBER"
	PIIUKUTR             PIIType = "UK_UNIQUE_TAXPAYER_REFERENCE_NUMBER"
	PIIURL               PIIType = "URL"
	PIIUsername          PIIType = "USERNAME"
	PIIUSBankAccount     PIIType = "US_BANK_ACCOUNT_NUMBER"
	PIIUSBankRouting     PIIType = "US_BANK_ROUTING_NUMBER"
	PIIUSITIN            PIIType = "US_INDIVIDUAL_TAX_IDENTIFICATION_NUMBER"
	PIIUSPassport        PIIType = "US_PASSPORT_NUMBER"
	PIIUSSSN             PIIType = "US_SOCIAL_SECURITY_NUMBER"
	PIIVIN               PIIType = "VEHICLE_IDENTIFICATION_NUMBER"
)

// PIITypes lists every supported PII entity type in Bedrock's order.
var PIITypes = []PIIType{
	PIIAddress, PIIAge, PIIAWSAccessKey, PIIAWSSecretKey, PIICAHealthNumber, PIICASocialInsurance, PIICardCVV,
	PIICardExpiry, PIICardNumber, PIIDriverID, PIIEmail, PIIIBAN, PIIIPAddress, PIILicensePlate, PIIMACAddress,
	PIIName, PIIPassword, PIIPhone, PIIPIN, PIISwiftCode, PIIUKNHSNumber, PIIUKNINumber, PIIUKUTR, PIIURL,
	PIIUsername, PIIUSBankAccount, PIIUSBankRouting, PIIUSITIN, PIIUSPassport, PIIUSSSN, PIIVIN,
}

// Valid reports whether t is one of PIITypes.
func (t PIIType) Valid() bool {
	for _, x := range PIITypes {
		if x == t {
			return true
		}
	}
	return false
}

// Tag is the mask that replaces an anonymized entity, such as "{EMAIL}".
func (t PIIType) Tag() string { return "{" + string(t) + "}" }
