module github.com/kafkasim/kafkasim

go 1.26

require (
	github.com/spf13/pflag v1.0.10
	go.yaml.in/yaml/v3 v3.0.6
)

require github.com/stretchr/testify v1.12.1
