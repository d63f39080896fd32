package webui

import (
	_ "embed"
	"net/http"

	"github.com/gin-gonic/gin"
)

// openapiJSON is the OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json.
// It is written by hand, as the contract; the tests check that every route under /api/v1 is in
// it and that the responses of the API tests validate against it (webui/openapitest).
//
//go:embed openapi.json
var openapiJSON []byte

// OpenAPI returns the OpenAPI 3.1 description of the JSON API.
func OpenAPI() []byte { return openapiJSON }

func (s *Server) openapi(c *gin.Context) {
	c.Header("Cache-Control", "public, max-age=300")
	c.Header("Access-Control-Allow-Origin", "*") // a public description: client generators and API explorers may fetch it
	c.Data(http.StatusOK, "application/json", openapiJSON)
}
