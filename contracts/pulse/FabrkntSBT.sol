// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import {Ownable} from "@openzeppelin/contracts/access/Ownable.sol";

/// ERC-5192: minimal soulbound NFTs (https://eips.ethereum.org/EIPS/eip-5192).
interface IERC5192 {
    event Locked(uint256 tokenId);
    event Unlocked(uint256 tokenId);

    function locked(uint256 tokenId) external view returns (bool);
}

/// PULSE milestone badges: soulbound ERC-721 tokens that only the issuer (the platform's
/// signer, the owner) mints and revokes. Every token is locked from its mint: transfers and
/// approvals revert. Each mint names a claim (the platform's key for one contributor and
/// one milestone) and a claim mints once, so a retried transaction never mints twice.
contract FabrkntSBT is ERC721, Ownable, IERC5192 {
    /// Tokens never move and nobody may be approved to move them.
    error Soulbound();
    /// This claim already minted `tokenId`.
    error AlreadyMinted(bytes32 claim, uint256 tokenId);

    event BaseURIChanged(string baseURI);
    event Revoked(uint256 indexed tokenId, bytes32 indexed claim);

    bytes4 private constant _INTERFACE_ID_ERC5192 = 0xb45a3c0e;

    string private _baseTokenURI;
    uint256 private _nextTokenId = 1;
    mapping(bytes32 claim => uint256 tokenId) public tokenOfClaim;
    mapping(uint256 tokenId => bytes32 claim) public claimOfToken;

    constructor(string memory name_, string memory symbol_, string memory baseURI_, address issuer)
        ERC721(name_, symbol_)
        Ownable(issuer)
    {
        _baseTokenURI = baseURI_;
    }

    /// Mints the next token to `to` for `claim`, locked. Returns its id (also in the
    /// Transfer event).
    function mint(address to, bytes32 claim) external onlyOwner returns (uint256 tokenId) {
        uint256 existing = tokenOfClaim[claim];
        if (existing != 0) revert AlreadyMinted(claim, existing);
        tokenId = _nextTokenId++;
        tokenOfClaim[claim] = tokenId;
        claimOfToken[tokenId] = claim;
        // _mint, not _safeMint: a soulbound badge needs no receiver hook, and the issuer
        // never calls into the recipient.
        _mint(to, tokenId);
        emit Locked(tokenId);
    }

    /// Burns a token (the issuer's revocation); its claim may then be minted again.
    function revoke(uint256 tokenId) external onlyOwner {
        bytes32 claim = claimOfToken[tokenId];
        _burn(tokenId);
        delete tokenOfClaim[claim];
        delete claimOfToken[tokenId];
        emit Revoked(tokenId, claim);
    }

    function setBaseURI(string calldata baseURI_) external onlyOwner {
        _baseTokenURI = baseURI_;
        emit BaseURIChanged(baseURI_);
    }

    /// The prefix of every token's URI (tokenURI = baseURI + tokenId).
    function baseURI() external view returns (string memory) {
        return _baseTokenURI;
    }

    /// ERC-5192: every existing token is locked; an unknown token reverts.
    function locked(uint256 tokenId) external view returns (bool) {
        _requireOwned(tokenId);
        return true;
    }

    function approve(address, uint256) public pure override {
        revert Soulbound();
    }

    function setApprovalForAll(address, bool) public pure override {
        revert Soulbound();
    }

    function supportsInterface(bytes4 interfaceId) public view override returns (bool) {
        return interfaceId == _INTERFACE_ID_ERC5192 || super.supportsInterface(interfaceId);
    }

    function _baseURI() internal view override returns (string memory) {
        return _baseTokenURI;
    }

    /// Mints (from zero) and burns (to zero) pass; every transfer between owners reverts.
    function _update(address to, uint256 tokenId, address auth) internal override returns (address) {
        if (_ownerOf(tokenId) != address(0) && to != address(0)) revert Soulbound();
        return super._update(to, tokenId, auth);
    }
}
