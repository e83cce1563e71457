"""Pull from a hospital's FHIR server: Bulk Data Access v2 (`client`), SMART Backend Services
(`smart`), and the pull that ends in a dataset version through the ingest (`pull`)."""
