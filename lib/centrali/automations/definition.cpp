#include "centrali/automations/definition.hpp"
