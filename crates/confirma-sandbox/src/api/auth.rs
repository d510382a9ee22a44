//! Who is calling: the credential checks every operation makes before it reads anything else.

use confirma_server::{ApiError, ApiKey, types};

use super::SandboxApi;
use crate::world::{Caller, Failure};

impl SandboxApi {
    fn is_provisioning_token(&self, key: Option<&ApiKey>) -> bool {
        key.is_some_and(|k| self.0.is_provisioning_token(k))
    }

    /// The calling client, for every operation but onboarding, renew and validate.
    pub(super) async fn client(&self, key: Option<&ApiKey>) -> Result<Caller, ApiError> {
        if self.is_provisioning_token(key) {
            return Err(ApiError::forbidden(
                "The partner provisioning token works only for onboarding (POST /api/v1/partner/client).",
            ));
        }
        let (caller, _) = self.0.authenticate(key).await?;
        if caller.expired {
            return Err(ApiError::token_expired());
        }
        Ok(caller)
    }

    /// Onboarding takes the partner provisioning token, and nothing else.
    pub(super) async fn onboard_caller(&self, key: Option<&ApiKey>) -> Result<(), ApiError> {
        if self.is_provisioning_token(key) {
            return Ok(());
        }
        let known = match key {
            Some(key) => match self.0.authenticate(Some(key)).await {
                Ok(_) => true,
                Err(Failure::Refused(_)) => false,
                Err(e) => return Err(e.into()),
            },
            None => false,
        };
        if known {
            Err(ApiError::forbidden(
                "Onboarding needs the partner provisioning token, not a client token.",
            ))
        } else {
            Err(ApiError::unauthorized(
                "Send the partner provisioning token in the X-Api-Key header.",
            ))
        }
    }

    /// validateToken: the provisioning token or a live client token.
    pub(super) async fn validate(
        &self,
        key: Option<&ApiKey>,
    ) -> Result<types::ValidateTokenResponse, ApiError> {
        if self.is_provisioning_token(key) {
            return Ok(types::ValidateTokenResponse {
                expires_at: None,
                is_valid: true,
                message: "Partner provisioning token is valid".into(),
            });
        }
        // An expired token is refused like everywhere else; only renew accepts it.
        let caller = self.client(key).await?;
        Ok(types::ValidateTokenResponse {
            expires_at: caller.expires_at,
            is_valid: true,
            message: "Token is valid".into(),
        })
    }

    /// The caller of renew: any client token, expired or not (renewal is the one thing an
    /// expired token may still do).
    pub(super) async fn renew_caller(&self, key: Option<&ApiKey>) -> Result<Caller, ApiError> {
        if self.is_provisioning_token(key) {
            return Err(ApiError::forbidden(
                "The partner provisioning token is not renewed through the API.",
            ));
        }
        Ok(self.0.authenticate(key).await?.0)
    }
}
