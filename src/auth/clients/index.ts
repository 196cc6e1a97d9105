export {
  type Client,
  type ClientInput,
  type ClientPatchInput,
  createClient,
  deleteClient,
  getClient,
  isConfidential,
  listClients,
  rotateClientSecret,
  updateClient,
  verifyClientSecret,
} from './clients.ts';
