// SPDX-License-Identifier: MIT
pragma solidity 0.8.28;

import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// An ERC-721 for the escrow tests: anyone mints.
contract MockNFT is ERC721 {
    constructor() ERC721("Fabrknt Test Asset", "FTA") {}

    function mint(address to, uint256 tokenId) external {
        _mint(to, tokenId);
    }
}
