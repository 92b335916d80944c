//! Issue-5 scenarios: the neighbouring hybrid failures, and the secrets capture.

use crate::scenarios::builder::Sb;

pub fn hma_not_advertised(_sb: &mut Sb) {}
pub fn exchange_oauth_2000003(_sb: &mut Sb) {}
pub fn delegate_reviewer(_sb: &mut Sb) {}
pub fn delegate_editor(_sb: &mut Sb) {}
pub fn delegate_missing_config(_sb: &mut Sb) {}
pub fn legacy_auth_exposed(_sb: &mut Sb) {}
pub fn bearer_only_healthy(_sb: &mut Sb) {}
pub fn ioc_oauth_failure(_sb: &mut Sb) {}
pub fn aadsts_50076_mfa(_sb: &mut Sb) {}
pub fn aadsts_53003_ca(_sb: &mut Sb) {}
pub fn secrets_everywhere(_sb: &mut Sb) {}
